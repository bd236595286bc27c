// svg_timing.js FILE.svg: load time and click-to-zoom time in headless Chromium (ms).
const { chromium } = require(process.env.PLAYWRIGHT || 'playwright-core');
const path = require('path');
(async () => {
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const p = await b.newPage();
  const t0 = Date.now();
  await p.goto('file://' + path.resolve(process.argv[2]));
  await p.waitForSelector('g.frame');
  const load = Date.now() - t0;
  const frames = await p.evaluate(() => document.querySelectorAll('g.frame').length);
  const t1 = Date.now();
  await p.evaluate(() => zoomTo(kids[0][0]));
  const zoom = Date.now() - t1;
  const t2 = Date.now();
  await p.evaluate(() => search('function_1'));
  const search = Date.now() - t2;
  console.log(`${load} ${zoom} ${search} ${frames}`);
  await b.close();
})();
