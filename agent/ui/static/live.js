// The session page, live: new trace events are appended as they are written (short polling),
// and when the status changes or an event arrives the panel (card, table, report) is fetched
// again, server-rendered and escaped. Nothing reloads the page.
(function () {
  const panel = document.getElementById("panel");
  const trace = document.getElementById("trace");
  const badge = document.getElementById("status");
  const base = "/sessions/" + encodeURIComponent(panel.dataset.session);
  let after = parseInt(trace.dataset.after, 10) || 0;
  let status = badge.textContent;

  function line(e) {
    const li = document.createElement("li");
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = new Date(e.ts * 1000).toLocaleTimeString();
    const node = document.createElement("b");
    node.textContent = e.node;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = e.text;
    li.append(when, " ", node, " " + e.kind + " ", text);
    return li;
  }

  async function refreshPanel() {
    const typing = panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
    if (typing) return; // never wipe what the reviewer is writing
    const reply = await fetch(base + "/panel");
    if (reply.ok) panel.innerHTML = await reply.text();
  }

  async function poll() {
    try {
      const reply = await fetch(base + "/events?after=" + after);
      if (reply.ok) {
        const data = await reply.json();
        data.events.forEach((e) => { trace.append(line(e)); after = e.id; });
        const changed = data.status !== status;
        status = data.status;
        badge.textContent = status;
        badge.className = "status " + status.split(" ")[0];
        if (changed || data.events.length) await refreshPanel();
      }
    } catch (err) {
      badge.textContent = status + " (dashboard unreachable, retrying)";
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
