# One entry per habit; each calls ./storyverse, which installs into .venv first.
.PHONY: init run demo test lint gen bench

init:
	./storyverse gen >/dev/null && echo "installed into .venv"

run:
	./storyverse run

demo:
	./storyverse run --demo

test:
	./storyverse test

lint:
	./storyverse lint

gen:
	./storyverse gen

bench:
	.venv/bin/python -m bench.ingest
