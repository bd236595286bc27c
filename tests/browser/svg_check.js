// Loads a bpfprof SVG flame graph in headless Chromium and checks that it
// shows FUNC, zooms on click, highlights search matches, and logs no errors.
// usage: node svg_check.js FILE.svg FUNC   -> "ok - ..." / "not ok - ..." lines
const { chromium } = require('playwright-core');
const path = require('path');

const [file, func] = process.argv.slice(2);
const ok = (name, cond, why) => console.log(cond ? `ok - svg: ${name}` : `not ok - svg: ${name}: ${why}`);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(String(e)));
  page.on('dialog', d => d.accept(func));
  await page.goto('file://' + path.resolve(file));
  await page.waitForSelector('g.frame');

  const frameWidth = () => page.evaluate(f => {
    for (const g of document.querySelectorAll('g.frame')) {
      if (g.querySelector('title').textContent.startsWith(f + ' (') && g.getAttribute('opacity') === null)
        return +g.querySelector('rect').getAttribute('width');
    }
    return -1;
  }, func);
  const title = await page.textContent('#title');
  ok('title names the command and unit', /bpfprof \w+/.test(title) && /\(\w+\)/.test(title), title);
  const before = await frameWidth();
  ok(`shows ${func}`, before > 0, 'no frame titled ' + func);

  // Zoom: click the parent of FUNC's frame; FUNC then takes (nearly) all width
  // of its parent, and "Reset Zoom" appears.
  const parentId = await page.evaluate(f => {
    for (const g of document.querySelectorAll('g.frame'))
      if (g.querySelector('title').textContent.startsWith(f + ' (')) return +g.getAttribute('data-node');
    return -1;
  }, func);
  await page.click(`g.frame[data-node="${parentId}"] rect`, { force: true });
  const zoomed = await frameWidth();
  const reset = await page.getAttribute('#unzoom', 'class');
  ok('click zooms: the clicked frame spans the width', zoomed > 1150, `width ${zoomed}`);
  ok('Reset Zoom shown when zoomed', reset === '', `class ${reset}`);
  await page.click('#unzoom');
  const unz = await frameWidth();
  ok('Reset Zoom restores the full view', Math.abs(unz - before) < 1, `${unz} vs ${before}`);

  // Search: highlights matching frames and shows their share.
  await page.click('#search');
  const highlighted = await page.evaluate(() =>
    [...document.querySelectorAll('g.frame rect')].filter(r => r.getAttribute('fill') === 'rgb(230,0,230)').length);
  const matched = await page.textContent('#matched');
  ok('search highlights matches', highlighted > 0, `${highlighted} highlighted`);
  ok('search shows the matched share', /Matched: \d+(\.\d)?%/.test(matched), matched);

  // Tooltip text on hover.
  await page.hover(`g.frame[data-node="${parentId}"] rect`, { force: true });
  const details = await page.textContent('#details');
  ok('hover shows value and share', /\(.+, [\d.]+%\)/.test(details), details);
  ok('no console errors', errors.length === 0, errors.join('; '));

  // Without script (an <img>, a preview): the frames are in the file, laid
  // out as the script lays them out.
  const still = await browser.newContext({ javaScriptEnabled: false });
  const page2 = await still.newPage();
  await page2.goto('file://' + path.resolve(file));
  const staticFrames = await page2.evaluate(() => document.querySelectorAll('g.frame').length);
  const staticWidth = await page2.evaluate(f => {
    for (const g of document.querySelectorAll('g.frame'))
      if (g.querySelector('title').textContent.startsWith(f + ' (')) return +g.querySelector('rect').getAttribute('width');
    return -1;
  }, func);
  ok('without script: frames drawn', staticFrames > 3, `${staticFrames} frames`);
  ok(`without script: ${func} as wide as the script draws it`, Math.abs(staticWidth - before) < 1, `${staticWidth} vs ${before}`);
  await browser.close();
})().catch(e => { console.log(`not ok - svg: browser run: ${e.message.split('\n')[0]}`); process.exit(1); });
