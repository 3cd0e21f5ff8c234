// The example's pages: plain server-rendered HTML. Every page has the nav (with <job-badge>) and the
// <job-tracker>; the widget comes from one script tag.

const escapeHtml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

const TYPES = JSON.stringify({
  'demo.generate': { label: 'Program generation', href: '/programs', linkLabel: 'Go to Programs' },
});

// The Settings page's "notify me" choice: a cookie, so that every page renders its tracker with it (one
// browser's choice, as the permission it needs is).
const NOTIFY_COOKIE = 'acme-planner-notify';

/** True when the request's `Cookie` header carries the Settings page's "notify me" choice. */
export const wantsNotifications = (cookieHeader) =>
  (cookieHeader ?? '').split(/;\s*/).includes(`${NOTIFY_COOKIE}=on`);

export function layout({ title, path, token, body, notify = false }) {
  const link = (href, text, extra = '') =>
    `<a href="${href}"${path === href ? ' aria-current="page"' : ''}>${text}${extra}</a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${escapeHtml(title)} · Acme Planner</title>
<meta name="jobtracker-endpoint" content="/api">
${token ? `<meta name="jobtracker-token" content="${escapeHtml(token)}">` : ''}
<script type="module" src="/assets/jobtracker.min.js"></script>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f8fa; }
  header { background: #fff; border-bottom: 1px solid #d1d9e0; }
  nav { display: flex; flex-wrap: wrap; gap: 0 1.5rem; max-width: 60rem; margin: 0 auto; padding: 0.4rem 1rem; align-items: center; }
  nav strong { margin-right: auto; }
  nav a { color: #1b1f24; text-decoration: none; display: inline-flex; gap: 0.35rem; align-items: center; min-height: 44px; }
  nav a[aria-current] { font-weight: 600; text-decoration: underline; }
  main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 8rem; overflow-wrap: anywhere; }
  section { background: #fff; border: 1px solid #d1d9e0; border-radius: 10px; padding: 1rem 1.25rem; margin-bottom: 1.25rem; }
  button.primary { font: inherit; padding: 0.5rem 1rem; border-radius: 6px; border: 1px solid #0969da; background: #0969da; color: #fff; cursor: pointer; }
  button.primary[disabled], button.primary[aria-disabled="true"] { opacity: 0.6; cursor: progress; }
  button.secondary { font: inherit; padding: 0.5rem 1rem; border-radius: 6px; border: 1px solid #d1d9e0; background: #fff; cursor: pointer; }
  button.primary, button.secondary { min-height: 44px; }
  .setting { display: flex; gap: 0.6rem; align-items: center; min-height: 44px; cursor: pointer; }
  .setting input { width: 1.25rem; height: 1.25rem; margin: 0; flex: none; }
  job-button { display: inline-flex; flex-wrap: wrap; margin: 0 1rem 0.5rem 0; max-width: 100%; }
  /* A phone: the nav's links get a row of their own under the name, the page keeps clear of the notch, and
     its end can scroll above the tracker's open sheet. */
  @media (max-width: 30rem) {
    nav { gap: 0 1.25rem; padding-inline: max(1rem, env(safe-area-inset-left)) max(1rem, env(safe-area-inset-right)); }
    nav strong { flex-basis: 100%; padding-top: 0.5rem; }
    main { padding: 0.5rem max(0.75rem, env(safe-area-inset-right)) 60vh max(0.75rem, env(safe-area-inset-left)); }
    h1 { font-size: 1.5rem; margin: 0.5rem 0; }
    h2 { font-size: 1.15rem; margin-top: 0; }
    section { padding: 0.75rem 1rem; }
  }
  /* A phone on its side: the page's end can scroll above the tracker's open sheet too. */
  @media (max-height: 30rem) {
    main { padding-bottom: 60vh; }
  }
</style>
</head>
<body>
<header><nav aria-label="Main">
  <strong>Acme Planner</strong>
  ${link('/', 'Analysis')}
  ${link('/programs', 'Programs', ' <job-badge type="demo.generate"></job-badge>')}
  ${link('/settings', 'Settings')}
</nav></header>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
<job-tracker types='${TYPES}' result-url="/programs/{id}" title-count${notify ? ' notify' : ''}></job-tracker>
</body>
</html>`;
}

export const analysisPage = ({ durationMs = 20000 } = {}) => `
<section>
  <h2>Market analysis: Q3 growth</h2>
  <p>Turn this analysis into a full program. Generation takes a while: feel free to keep browsing.</p>
  <job-button type="demo.generate" scope="analysis-7" job-title="Q3 growth program" input='{"durationMs":${Number(durationMs)}}'>
    <button class="primary" type="button">Generate program</button>
  </job-button>
  <job-button type="demo.generate" scope="analysis-7-risky" job-title="Risky program" input='{"durationMs":${Math.round(Number(durationMs) / 2)},"failAtPercent":40}'>
    <button class="secondary" type="button">Generate (fails at 40%)</button>
  </job-button>
</section>`;

export const programsPage = () => `
<section>
  <h2>In progress</h2>
  <job-list status="active" type="demo.generate"><p slot="empty">Nothing is being generated right now.</p></job-list>
</section>
<section>
  <h2>Recently generated</h2>
  <job-list status="completed,failed,cancelled" type="demo.generate" limit="5" result-url="/programs/{id}">
    <p slot="empty">No programs yet: start one from the Analysis page.</p>
  </job-list>
</section>`;

export const settingsPage = () => `
<section>
  <h2>Notifications</h2>
  <p>Running jobs keep showing in the corner of every page, and the page title counts them.</p>
  <label class="setting"><input type="checkbox" id="notify-setting"> Notify me when a program is ready, also while this tab is in the background</label>
  <p id="notify-status" role="status"></p>
</section>
<script type="module">
  const box = document.getElementById('notify-setting');
  const status = document.getElementById('notify-status');
  const tracker = document.querySelector('job-tracker');
  const supported = 'Notification' in window;
  box.checked = supported && tracker.hasAttribute('notify') && Notification.permission === 'granted';
  box.disabled = !supported;
  if (!supported) status.textContent = 'This browser cannot show notifications.';
  box.addEventListener('change', async () => {
    // Asked from the click itself: browsers ignore a request that no user action led to.
    if (box.checked && (await Notification.requestPermission()) !== 'granted') {
      box.checked = false;
      status.textContent = 'Notifications are blocked for this site: allow them in the browser’s site settings, then try again.';
      return;
    }
    document.cookie = box.checked
      ? '${NOTIFY_COOKIE}=on; path=/; max-age=31536000; samesite=lax'
      : '${NOTIFY_COOKIE}=; path=/; max-age=0; samesite=lax';
    tracker.toggleAttribute('notify', box.checked);
    status.textContent = box.checked
      ? 'You will be notified when a program is ready while this tab is in the background.'
      : 'Notifications are off.';
  });
</script>`;

export function programPage(job) {
  if (!job) return '<section><p>This program does not exist.</p></section>';
  const result = job.result && typeof job.result === 'object' ? job.result : {};
  return `
<section>
  <h2>${escapeHtml(job.title ?? 'Program')}</h2>
  <p>Status: <strong>${escapeHtml(job.status)}</strong></p>
  ${result.summary ? `<p>${escapeHtml(result.summary)}</p>` : ''}
  ${job.error ? `<p>Error: ${escapeHtml(job.error.message)}</p>` : ''}
</section>`;
}
