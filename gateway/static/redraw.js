// Charts are drawn at their card's width: remember how to draw each one, redraw on resize.

const redraws = new Map(); // chart id → function drawing it again at the current width

export function draw(id, render) {
  redraws.set(id, render);
  render();
}

export function forget(id) {
  redraws.delete(id);
}

let pending = 0;
window.addEventListener("resize", () => {
  clearTimeout(pending);
  pending = setTimeout(() => redraws.forEach((redraw) => redraw()), 120);
});
