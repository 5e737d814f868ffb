// Small progressive enhancements; the app works fully without them.
(function () {
  'use strict';

  // Copy buttons next to support details (correlation id): hidden until JavaScript can copy.
  function wireCopyButtons(root) {
    root.querySelectorAll('button[data-copy]').forEach(function (button) {
      if (button.dataset.wired || !navigator.clipboard) return;
      button.dataset.wired = '1';
      button.hidden = false;
      button.addEventListener('click', function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          button.textContent = button.dataset.copied || 'Copied';
        });
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () { wireCopyButtons(document); });
  document.addEventListener('htmx:afterSettle', function () { wireCopyButtons(document); });
})();
