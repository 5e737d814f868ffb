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
          // The accessible name must still contain the visible words (WCAG 2.5.3).
          if (button.dataset.copiedLabel) button.setAttribute('aria-label', button.dataset.copiedLabel);
        });
      });
    });
  }

  // A field rendered with the loaded value is marked "changed" as soon as it differs from it
  // (the server marks the others when it renders the form).
  document.addEventListener('input', function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute('data-mark-changes')) return;
    var mark = document.getElementById(input.id + '-changed');
    if (mark) mark.hidden = input.value === input.defaultValue;
  });

  // One outcome at a time. A new request clears the alert area above the form. A message htmx
  // puts there (a request refused before it reached the form) replaces the form's last notice,
  // and takes focus: the Save button that had it was disabled during the request, which lost it.
  document.addEventListener('htmx:beforeRequest', function () {
    var alerts = document.getElementById('alerts');
    if (alerts) alerts.replaceChildren();
  });
  document.addEventListener('htmx:afterSettle', function (event) {
    if (!event.detail.target || event.detail.target.id !== 'alerts') return;
    var notice = document.getElementById('notice');
    if (notice) notice.remove();
    var alert = document.getElementById('alert');
    if (alert) alert.focus();
  });

  // A save that takes a while says so: "Saving…" in the button and in a polite live region at
  // once, "Still waiting for Partner Center…" after five seconds. htmx keeps the buttons
  // disabled meanwhile (hx-disabled-elt), so the form cannot be sent twice.
  var progress = { timer: null };
  document.addEventListener('htmx:beforeRequest', function (event) {
    var form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.dataset.saving) return;
    var button = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
      event.detail.requestConfig.triggeringEvent.submitter || form.querySelector('button[type="submit"]');
    var status = document.getElementById('save-progress');
    if (button && button.form === form && !button.dataset.leaves) {
      button.dataset.label = button.textContent;
      button.textContent = form.dataset.saving;
    }
    if (status) status.textContent = form.dataset.saving;
    clearTimeout(progress.timer);
    progress.timer = setTimeout(function () {
      if (button && button.dataset.label) button.textContent = form.dataset.stillWaiting;
      if (status) status.textContent = form.dataset.stillWaiting;
    }, 5000);
  });
  document.addEventListener('htmx:afterRequest', function () {
    clearTimeout(progress.timer);
    // The answer replaces the form; when none came (the network failed), put the words back.
    document.querySelectorAll('button[data-label]').forEach(function (button) {
      button.textContent = button.dataset.label;
      delete button.dataset.label;
    });
    var status = document.getElementById('save-progress');
    if (status) status.textContent = '';
  });

  // Leaving a form with changes asks first: a link (the history), a reload, closing the tab. The
  // language switch keeps what was typed (it submits the form), and a save is no leaving.
  var leavingOnPurpose = false, submitting = false;
  document.addEventListener('click', function (event) {
    if (event.target instanceof Element && event.target.closest('[data-leaves]')) leavingOnPurpose = true;
  });
  document.addEventListener('submit', function () { submitting = true; });
  document.addEventListener('htmx:afterRequest', function () { submitting = false; });
  window.addEventListener('beforeunload', function (event) {
    if (leavingOnPurpose || submitting) return;
    var changed = Array.prototype.some.call(document.querySelectorAll('#profile form input[data-mark-changes]'),
      function (input) { return input.value !== input.defaultValue; });
    if (changed) {
      event.preventDefault();
      event.returnValue = ''; // older browsers need it to ask
    }
  });

  // Times of day are shown in the person's time zone once the server knows it (else in UTC, said so).
  function rememberTimeZone() {
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || document.cookie.indexOf('pcs_tz=' + zone) >= 0) return;
    var path = document.documentElement.dataset.basePath || '/';
    document.cookie = 'pcs_tz=' + zone + '; path=' + path + '; max-age=31536000; samesite=lax' +
      (location.protocol === 'https:' ? '; secure' : '');
  }

  // Save stays off while Partner Center asks the partner to wait, and comes back on at that time.
  function wireWaits(root) {
    root.querySelectorAll('button[data-enable-at]').forEach(function (button) {
      var at = Date.parse(button.dataset.enableAt);
      if (!button.disabled || isNaN(at) || button.dataset.waitWired) return;
      button.dataset.waitWired = '1';
      setTimeout(function () { button.disabled = false; }, Math.max(0, at - Date.now()));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    rememberTimeZone();
    wireCopyButtons(document);
    wireWaits(document);
  });
  document.addEventListener('htmx:afterSettle', function () {
    wireCopyButtons(document);
    wireWaits(document);
  });
})();
