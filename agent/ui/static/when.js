// Event times in the reader's own clock.
document.querySelectorAll(".when[data-ts]").forEach((el) => {
  const ts = parseFloat(el.dataset.ts);
  if (!Number.isNaN(ts)) el.textContent = new Date(ts * 1000).toLocaleTimeString();
});
