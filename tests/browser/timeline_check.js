// Loads a bpfprof HTML timeline in headless Chromium and checks it: one lane
// per thread of the trace inside it, zoom, a clicked slice's stack, a window's
// flame graph, no console errors and no request beyond the file itself.
// usage: node timeline_check.js FILE.html WAIT_FUNC CPU_FUNC -> "ok - ..." / "not ok - ..." lines
// (WAIT_FUNC: on the stack of a long blocked slice; CPU_FUNC: in its on-CPU samples)
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [file, waitFunc, cpuFunc, goWait] = process.argv.slice(2); // goWait: "gowait=FUNC" for a Go page
const ok = (name, cond, why) => console.log(cond ? `ok - html timeline: ${name}` : `not ok - html timeline: ${name}: ${why}`);

// The trace inside the page, read here independently of the page's code.
const text = fs.readFileSync(file, 'utf8');
const m = text.match(/<script type="application\/json" id="trace">([\s\S]*?)<\/script>/);
const trace = JSON.parse(m[1]);
const threads = new Set(trace.traceEvents.filter(e => e.name === 'thread_name').map(e => e.tid));

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const errors = [], requests = [];
  page.on('console', msg => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', e => errors.push(String(e)));
  page.on('request', r => { if (!r.url().startsWith('file://')) requests.push(r.url()); });
  await page.goto('file://' + path.resolve(file));
  await page.waitForSelector('#cv');

  const lanes = await page.$$eval('.lane-label[data-tid]', ds => ds.map(d => +d.dataset.tid));
  ok('one lane per thread', lanes.length === threads.size && lanes.every(t => threads.has(t)),
     `${lanes.length} lanes for ${threads.size} threads`);

  const cv = await page.$eval('#cv', c => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width }; });
  const span = async () => page.evaluate(() => { const v = bpfprofTimeline.view(); return v[1] - v[0]; });
  const before = await span();
  await page.mouse.move(cv.x + cv.w / 2, cv.y + 60);
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -100);
  const zoomed = await span();
  ok('the wheel zooms in', zoomed < before * 0.6, `span ${before} -> ${zoomed}`);
  await page.click('#reset');
  ok('Reset shows everything again', Math.abs(await span() - before) < 1e-6 * before, `${await span()} vs ${before}`);

  // Click the middle of the longest blocked slice: its duration and stack show.
  const blocked = trace.traceEvents.filter(e => e.ph === 'X' && e.name.startsWith('blocked') && e.args && e.args.stack &&
    e.args.stack.includes(waitFunc)).sort((a, b) => b.dur - a.dur)[0];
  if (!blocked) {
    ok('a blocked slice to click', false, `none with ${waitFunc} on its stack`);
  } else {
    const at = await page.evaluate(e => ({ x: bpfprofTimeline.xOf(e.ts + e.dur / 2), y: bpfprofTimeline.yOf(bpfprofTimeline.rowOf(e.tid)) + 9 }), blocked);
    await page.mouse.click(cv.x + at.x, cv.y + at.y);
    const stack = await page.textContent('#stack');
    const dur = await page.textContent('#dur');
    ok(`a click shows the slice's stack (${waitFunc})`, stack.includes(waitFunc), stack.slice(0, 200));
    ok('and its duration', /^[\d.]+ (ms|s|us)$/.test(dur) && Math.abs(parseFloat(dur) * (dur.endsWith(' ms') ? 1000 : dur.endsWith(' s') ? 1e6 : 1) - blocked.dur) <= blocked.dur * 0.01 + 1,
       `${dur} for ${blocked.dur} us`);
  }

  // Shift+drag across the middle half: the window's on-CPU flame graph.
  const y = cv.y + await page.evaluate(t => bpfprofTimeline.yOf(bpfprofTimeline.rowOf(t)) + 9, lanes[0]); // in view
  await page.keyboard.down('Shift');
  await page.mouse.move(cv.x + cv.w * 0.25, y);
  await page.mouse.down();
  await page.mouse.move(cv.x + cv.w * 0.75, y, { steps: 6 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  const fg = await page.$$eval('#flame .fg', ds => ds.map(d => d.textContent));
  const wsum = await page.textContent('#wsum');
  ok(`a window's flame graph shows ${cpuFunc}`, fg.includes(cpuFunc), `frames: ${fg.slice(0, 8).join(', ')}`);
  ok('and says its window and total', /window .* cpu [\d.]+ (ms|s)/.test(wsum), wsum);
  await page.check('input[name=wt][value=offcpu]');
  const fgOff = await page.$$eval('#flame .fg', ds => ds.map(d => d.textContent));
  ok(`the off-CPU flame graph of the window shows ${waitFunc}`, fgOff.includes(waitFunc), `frames: ${fgOff.slice(0, 8).join(', ')}`);

  if (goWait) { // a Go page: the goroutines' waits of the window
    const fn = goWait.split('=')[1];
    await page.check('input[name=wt][value=gowait]');
    const fgGo = await page.$$eval('#flame .fg', ds => ds.map(d => d.textContent));
    ok(`the goroutines' waits of the window show ${fn}`, fgGo.includes(fn), `frames: ${fgGo.slice(0, 8).join(', ')}`);
  }
  ok('no console errors', errors.length === 0, errors.join('; '));
  ok('no network requests', requests.length === 0, requests.join(' '));
  await browser.close();
})().catch(e => { console.log(`not ok - html timeline: browser run: ${e.message.split('\n')[0]}`); process.exit(1); });
