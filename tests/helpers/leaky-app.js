// tests/helpers/leaky-app.js: a Node app that leaks on purpose, for
// tests/e2e/pm2.sh. Every 100 ms it keeps another filled buffer of
// LEAK_STEP bytes (default 4 MB) until LEAK_MAX (default 160 MB), then
// sits. Started with --heapsnapshot-signal it also answers SIGUSR2.
'use strict';
const step = Number(process.env.LEAK_STEP || 4 * 1024 * 1024);
const max = Number(process.env.LEAK_MAX || 160 * 1024 * 1024);
const kept = [];
let total = 0;
setInterval(() => {
	if (total + step > max)
		return;
	kept.push(Buffer.alloc(step, 1));
	total += step;
}, 100);
