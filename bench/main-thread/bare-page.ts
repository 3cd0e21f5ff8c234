/**
 * The baseline: a page with no framework that shows the same 40 bars (two per job, as the tracker and
 * the list do) and updates them on `jobs` staggered timers at `rateHz`, with the same values the worker
 * sends. `window.__bare.start()` / `stop()` switch the timers on and off between measured windows.
 */
export function barePage(options: {
  jobs: number;
  rateHz: number;
  start: (job: number) => number;
  step: number;
}): string {
  const starts = Array.from({ length: options.jobs }, (_, job) => options.start(job));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bare DOM</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 1rem; }
  .card { border: 1px solid #d1d9e0; border-radius: 8px; padding: 0.5rem; margin: 0 0 0.5rem; }
  .meta { display: flex; justify-content: space-between; }
  .bar { height: 6px; border-radius: 3px; background: #e5e9ee; overflow: hidden; }
  .fill { height: 100%; background: #0969da; }
  .corner { position: fixed; right: 1rem; bottom: 1rem; width: 22rem; max-height: 80vh; overflow: auto; }
</style></head>
<body><main id="list"></main><aside class="corner" id="corner"></aside>
<script>
(() => {
  const starts = ${JSON.stringify(starts)};
  const step = ${options.step};
  const period = 1000 / ${options.rateHz};
  const card = (parent) => {
    const root = document.createElement('div');
    root.className = 'card';
    root.innerHTML = '<div class="meta"><span class="message"></span><span class="percent"></span></div><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div class="fill"></div></div>';
    parent.append(root);
    return { message: root.querySelector('.message').appendChild(document.createTextNode('')), percent: root.querySelector('.percent').appendChild(document.createTextNode('')), bar: root.querySelector('.bar'), fill: root.querySelector('.fill') };
  };
  const jobs = starts.map((progress, index) => ({ progress, count: 0, views: [card(document.getElementById('list')), card(document.getElementById('corner'))], index }));
  const show = (job) => {
    for (const view of job.views) {
      view.message.data = 'Step ' + job.count + '…';
      view.percent.data = Math.floor(job.progress) + '%';
      view.bar.setAttribute('aria-valuenow', String(Math.floor(job.progress)));
      view.fill.style.width = job.progress + '%';
    }
  };
  jobs.forEach(show);
  let timers = [];
  window.__bare = {
    start() {
      this.stop();
      timers = jobs.map((job) => setTimeout(() => {
        timers[job.index] = setInterval(() => {
          job.count++;
          job.progress = Math.min(99, job.progress + step);
          show(job);
        }, period);
      }, (period * job.index) / jobs.length));
    },
    stop() {
      for (const timer of timers) { clearTimeout(timer); clearInterval(timer); }
      timers = [];
    },
  };
})();
</script></body></html>`;
}
