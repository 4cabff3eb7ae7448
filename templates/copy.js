/* feedkit: the feed pages' "Copy address" buttons (feeds.html, category/<slug>/index.html).
   Each button names the element holding its address (data-copy) and says what happened in the
   status element after it, with the page's own words (data-done, data-selected). The buttons
   are hidden in the page and shown here, so a browser without JavaScript shows only the
   address, which is selectable text. The clipboard API needs a secure context (https,
   localhost); elsewhere, or when it is refused, the address is selected and copied the old way,
   or left selected for the reader to copy. */
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = button.nextElementSibling;
  if (!field) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var text = field.textContent.trim();
    var say = function (what) { status.textContent = button.getAttribute(what); };
    var select = function () {
      var range = document.createRange();
      range.selectNodeContents(field);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? "data-done" : "data-selected");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say("data-done"); }, select);
    } else {
      select();
    }
  });
});
