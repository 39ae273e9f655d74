"""The words the aspect extractor knows (feedback_svc/sentiment/aspects.py).

Each block is `<kind> <aspect-or-polarity>:` then comma-separated phrases; a
trailing "*" matches any word starting with that prefix. Kept as text so that it
reads like the word lists it is, and grows without touching code.
"""

EXPLICIT = """
plot:
    plot, plots, storyline, story line, plotline, twist*, narrative, pacing, adventure, the middle
ending:
    ending, endings, the end, finale, conclusion, last page, last part, final part, resolution,
    ended, ends
characters:
    character, characters, hero, heroes, heroine, villain, villains, bad guy, bad guys, baddie,
    sidekick, personalities, personality, cast, friendship between, goku, woody, buzz, elsa, anna,
    olaf, mickey, pikachu, spiderman, spider-man, princess
length:
    length, pages, long, short, duration, reading time, minutes
illustrations:
    illustrat*, picture*, drawing*, image*, art, artwork, art style, colors, colours, graphics,
    visuals, pics, animation*
reading_level:
    reading level, vocabulary, words, sentences, language level, read alone, read it herself, read
    it himself, read it by herself, read it by himself, level, early reader, new reader
scary_content:
    monster*, ghost*
technical_problem:
    loading, load, loads, loaded, download*, button*, screen, sync*, login, log in, page turn*
voice_narration:
    narrator, narration, narrat*, voice, voices, read aloud, read-aloud, audio, accent,
    pronunciation, reading voice, audiobook, voiceover, sound, sound quality
"""

IMPLICIT = """
length negative:
    too long, too short, way too long, dragged, drags, dragged on, went on and on, goes on and on,
    longer than, over too quickly, over in, too quick, lost interest, attention span, too many
    pages, fell asleep before, a bit long, a little long, a bit short, more pages
length positive:
    right length, perfect length, good length, short and sweet
ending negative:
    abrupt*, cliffhanger, just stopped, stopped suddenly, ended suddenly, ended abruptly, cut off,
    left us hanging, just ends, ends abruptly
ending positive:
    happy ending, happily ever after
reading_level negative:
    too hard, too difficult, too advanced, too complex, too complicated, big words, long words, over
    her head, over his head, over their heads, too easy, too simple, too babyish, babyish, couldn't
    read
reading_level positive:
    easy to read, sound out, age appropriate words, could read, on her own, on his own, reading
    skills
scary_content negative:
    scary, scarier, scared, scare*, frighten*, fright, terrif*, nightmare*, creepy, spooky, horror,
    horrif*, afraid, fear*, cried, crying, in tears, cry, zombie*, with the light on, couldn't
    sleep, wouldn't sleep, traumati*, petrified, hid under, disturbing
inappropriate_content negative:
    inappropriate, unsuitable, violent, violence, blood, bloody, gore, gory, kill, killed, killing,
    kills, murder*, weapon*, gun, guns, knife, knives, swear*, curse word*, bad words, bad language,
    rude words, rude jokes, crude, sexual, drugs, alcohol, beer, smoking, stupid, shut up, idiot,
    punching, fighting, hitting, died, death, dead, adult themes, mature, offensive, stereotyp*,
    die, dies, making fun of, made fun of, make fun of, kissing, bullying
inappropriate_content positive:
    appropriate, suitable, age-appropriate
technical_problem negative:
    crash*, froze, freez*, frozen screen, bug, bugs, buggy, glitch*, error*, black screen, blank
    screen, white screen, lag*, kept closing, closed itself, wouldn't open, won't open, wouldn't
    load, won't load, didn't load, not loading, stuck, out of sync, spinning wheel, kicked us out,
    lost our progress, lost the story, disappeared, cut out, cutting out, went black, cuts out, no
    sound, unresponsive, restart*, reinstall*, hung, kicking us out, kicks us out, didn't play,
    wouldn't play, won't play, didn't respond, not responding, wouldn't turn
voice_narration negative:
    robotic, monoton*, mispronounc*
voice_narration positive:
    read along, funny voices, silly voices
illustrations negative:
    blurry, pixelated
plot negative:
    hard to follow, all over the place, nothing happened, nothing happens, same thing over and over,
    plot holes, went nowhere, goes nowhere
plot positive:
    easy to follow
"""

OPINIONS = """
positive:
    love, loved, loves, loving, lovely, great, amazing, wonderful, beautiful, beautifully, fun,
    funny, perfect, perfectly, engaging, exciting, enjoyed, enjoy, enjoys, favorite, favourite,
    brilliant, cute, clever, sweet, nice, good, excellent, fantastic, awesome, charming, gorgeous,
    stunning, vivid, colorful, colourful, clear, soothing, calm, calming, warm, touching,
    heartwarming, satisfying, creative, imaginative, delightful, adorable, hilarious, gentle,
    pleasant, captivating, magical, memorable, smooth, smoothly, flawless, flawlessly, believable,
    relatable, expressive, kind, fast, quick, quickly, easy, simple, sense, gripping, original,
    lively, likeable, likable, bright, detailed, cozy, cosy, thoughtful, well-written, hooked,
    engaged, laughed, giggled, giggling, laughing, happy, right, fine, seamless, seamlessly,
    reliable, natural, friendly, cool, impressed, impressive, epic, best, sweetest, cutest,
    loveable, lovable, bravo, thrilling, powerful, meaningful, works, worked, working, fixed,
    improved, super, joy, breathtaking, genius, superb, phenomenal, interested, interesting, match,
    matched, matches, understand, understood, made sense, make sense, well done, well written, well
    drawn, spot on, just right, not bad, came to life, easy to understand
negative:
    confusing, confused, boring, bored, dull, bad, terrible, awful, horrible, poor, weak, flat,
    rushed, sudden, suddenly, odd, weird, strange, messy, random, pointless, annoying, annoyed,
    ugly, hard, difficult, complicated, advanced, repetitive, predictable, disappointing,
    disappointed, disappointment, unsatisfying, unclear, mean, rude, slow, broken, wrong, missing,
    garbled, muffled, loud, off, nonsense, stiff, bland, generic, forgettable, lacking, cheap,
    unfinished, mismatched, inconsistent, sad, upset, upsetting, worse, worst, hate, hated, dislike,
    disliked, tedious, clunky, creepy, harsh, grating, irritating, jarring, unnatural, distorted,
    quiet, silent, failed, fails, forever, sloppy, lazy, lame, meh, chaotic, nothing, incomplete,
    dropped, awkward, cold, lost, unreadable, tiny, small, dark, cluttered, plain, cringe, cringey,
    problem, problems, issue, issues, frustrating, frustrated, useless, unbearable, dragging,
    overwhelming, thin, no sense, not great, could be better, fell flat, too much, a mess, went
    wrong, out of character, a letdown, let down, all over the place, hard to understand, over the
    top, took forever, takes forever, too many
neutral:
    okay, ok, alright, average, decent, so-so, fine-ish, mixed, so so
"""

PLOT_OPINIONS = """
    all over the place, boring, chaotic, clever, confused, confusing, creative, dull, easy to
    follow, engaging, exciting, follow, gripping, hard to follow, imaginative, made sense, make
    sense, messy, no sense, nonsense, original, predictable, random, repetitive, sense, slow
"""

TECH_OPINIONS = """
    broken, failed, fails, fast, fixed, flawless, flawlessly, forever, frustrating, issue, issues,
    problem, problems, quick, quickly, reliable, seamless, seamlessly, slow, smooth, smoothly, takes
    forever, took forever, useless, worked, working, works
"""
