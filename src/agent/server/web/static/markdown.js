// Replies as Markdown, sanitized. Model output is untrusted: raw HTML in it is shown as
// text (escaped before DOMPurify sees it), images become links (nothing loads by itself),
// and DOMPurify then keeps only the tags Markdown needs and drops javascript: URLs.
// marked, DOMPurify and highlight.js are classic scripts (static/vendor/) that run before
// any module, and set window.marked, window.DOMPurify and window.hljs.

const SANITIZE = {
  ALLOWED_TAGS: [
    "a", "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
  ],
  ALLOWED_ATTR: ["href", "title", "class", "start", "align"],
};

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const markdown = window.marked
  ? new window.marked.Marked({
      gfm: true,
      breaks: true,
      renderer: {
        html: ({ text }) => escapeHtml(text),
        image: ({ href, text }) => `<a href="${escapeHtml(href || "")}">${escapeHtml(text || href || "image")}</a>`,
      },
    })
  : null;

/** Show `text` in `target` as sanitized Markdown, links opening elsewhere, code highlighted. */
export function renderMarkdown(target, text) {
  if (!markdown || !window.DOMPurify) {
    target.textContent = text; // the libraries failed to load: plain text is still safe
    return;
  }
  target.innerHTML = window.DOMPurify.sanitize(markdown.parse(text), SANITIZE);
  for (const link of target.querySelectorAll("a[href]")) {
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
  }
  if (window.hljs) {
    for (const code of target.querySelectorAll("pre code")) window.hljs.highlightElement(code);
  }
}
