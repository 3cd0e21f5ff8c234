/**
 * The page `npm start` serves at `/` until the example apps exist: starts demo jobs and shows the
 * stream of the dev-mode user's jobs. Job text is set with textContent only.
 */
export const LANDING_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jobtracker reference server</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
  button { font: inherit; padding: .4rem .9rem; margin-right: .5rem; }
  li { margin: .6rem 0; list-style: none; }
  progress { width: 12rem; vertical-align: middle; }
  .status { font-weight: 600; }
  code { background: #f2f4f7; padding: 0 .25rem; }
</style>
</head>
<body>
<h1>jobtracker reference server</h1>
<p>The job API is at <code>/api</code>: <a href="/api/health">health</a>,
<a href="/api/openapi.json">OpenAPI document</a>. This page shows the jobs of the dev-mode user live.</p>
<p>
  <button id="start" type="button">Start a demo job</button>
  <button id="fail" type="button">Start a job that fails at 40%</button>
</p>
<p id="connection" role="status" aria-live="polite">Connecting…</p>
<ul id="jobs" aria-live="polite"></ul>
<script type="module">
  const list = document.getElementById('jobs');
  const connection = document.getElementById('connection');
  const jobs = new Map();
  function render() {
    list.replaceChildren(...[...jobs.values()].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, 20).map((job) => {
      const item = document.createElement('li');
      const status = document.createElement('span');
      status.className = 'status';
      status.textContent = job.status;
      const bar = document.createElement('progress');
      bar.max = 100;
      if (job.progress !== null) bar.value = job.progress;
      const text = document.createElement('span');
      text.textContent = ' ' + (job.title ?? job.type) + ' — ' + (job.error?.message ?? job.message ?? '');
      item.append(status, ' ', bar, text);
      if (job.status === 'failed') {
        const retry = document.createElement('button');
        retry.type = 'button';
        retry.textContent = 'Retry';
        retry.onclick = () => fetch('/api/jobs/' + job.id + '/retry', { method: 'POST' });
        item.append(' ', retry);
      }
      return item;
    }));
  }
  function take(job) {
    const known = jobs.get(job.id);
    if (!known || known.version < job.version) jobs.set(job.id, job);
  }
  const stream = new EventSource('/api/jobs/stream');
  stream.addEventListener('open', () => { connection.textContent = 'Live.'; });
  stream.addEventListener('error', () => { connection.textContent = 'Reconnecting…'; });
  for (const name of ['snapshot', 'reset']) {
    stream.addEventListener(name, (event) => {
      jobs.clear();
      for (const job of JSON.parse(event.data).jobs) take(job);
      render();
    });
  }
  stream.addEventListener('job', (event) => { take(JSON.parse(event.data)); render(); });
  const start = (input, title) => fetch('/api/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'demo.generate', scope: title, title, input }),
  });
  document.getElementById('start').onclick = () => start({ durationMs: 15000 }, 'Q3 growth program');
  document.getElementById('fail').onclick = () => start({ durationMs: 10000, failAtPercent: 40 }, 'Risky program');
</script>
</body>
</html>
`;
