// Helpers for the browser tests: a headless Debian Chromium driven by playwright-core
// (never a downloaded browser), fresh isolated contexts, error collection and small
// polling helpers. scripts/test.sh sets CHROMIUM_PATH and the services' URLs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { urls, waitFor, getJson } from '../../system/lib/stack.js';

export { urls };

/** Base URL of the frontend, without a trailing slash. */
export const base = urls.frontend.replace(/\/+$/, '');

/** Where screenshots go (git-ignored). */
export const artifactsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../artifacts');

/** Cards per page, as the frontend was configured (its default is 12). */
export const pageSize = Number(process.env.PAGE_SIZE ?? 12);

/** Generous: the machine running the tests is slow and shared. */
export const ACTION_TIMEOUT = 30_000;
export const NAV_TIMEOUT = 45_000;

const LAUNCH_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

/**
 * Starts Chromium once the frontend answers. chromium.launch gives every browser a new
 * temporary profile of its own (removed at close), and every context made with
 * newContext() below is isolated (no cookies or storage shared): no profile is reused.
 */
export async function startBrowser() {
	await waitFor(`${base}/health`, { status: 200, timeoutMs: 60_000 });
	return chromium.launch({
		executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
		headless: true,
		args: LAUNCH_ARGS,
		timeout: 60_000,
	});
}

/** A fresh context (options as Playwright's newContext) with the test timeouts set. */
export async function newContext(browser, options = {}) {
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
	context.setDefaultTimeout(ACTION_TIMEOUT);
	context.setDefaultNavigationTimeout(NAV_TIMEOUT);
	return context;
}

/**
 * Collects what would show up red in the developer tools: console messages of type
 * error (CSP violations and failed loads included) and uncaught page errors.
 * Returns the (live) list of descriptions.
 */
export function collectErrors(page) {
	const errors = [];
	page.on('console', (msg) => {
		if (msg.type() === 'error') {
			const loc = msg.location();
			errors.push(`console: ${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
		}
	});
	page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
	return errors;
}

/** Counts the navigations of the page's main frame (same-document ones included). */
export function countNavigations(page) {
	const counter = { n: 0 };
	page.on('framenavigated', (frame) => {
		if (frame === page.mainFrame()) counter.n += 1;
	});
	return counter;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `fn` (sync or async) until it returns without throwing, and returns its value;
 * after `timeout` ms rethrows the last failure, prefixed with `what`.
 */
export async function eventually(what, fn, { timeout = ACTION_TIMEOUT, interval = 100 } = {}) {
	const deadline = Date.now() + timeout;
	for (;;) {
		try {
			return await fn();
		} catch (err) {
			if (Date.now() >= deadline) {
				err.message = `${what}: ${err.message}`;
				throw err;
			}
		}
		await sleep(interval);
	}
}

/**
 * Clicks `locator` and waits until the document it leads to has loaded: for form posts
 * and links that replace the page (the 303 after a post lands on a new document, even
 * when its URL equals the current one).
 */
export async function clickAndLoad(page, locator) {
	const loaded = page.waitForEvent('load', { timeout: NAV_TIMEOUT });
	await locator.click();
	await loaded;
}

/**
 * The text of the element `locator` in the DOM (textContent, whitespace collapsed): what
 * the page says, whatever the stylesheet does to it (text-transform and the like).
 */
export async function textOf(locator) {
	return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** The number in a "N votes" / "1 vote" label. */
export function votesOf(text) {
	const m = /^\s*(\d+) votes?\s*$/.exec(text ?? '');
	assert.ok(m, `not a vote count: ${JSON.stringify(text)}`);
	return Number(m[1]);
}

/** The vote count shown on the card `card` (a locator). */
export async function cardVotes(card) {
	return votesOf(await card.locator('.vote-count').textContent());
}

/** The ids ("origami-N") of the cards on the page, in order. */
export async function cardIds(page) {
	const ids = [];
	for (const card of await page.locator('article.card').all()) ids.push(await card.getAttribute('id'));
	return ids;
}

let seq = 0;
/** A username nobody used before (letters, digits and underscore; <= 50 characters). */
export function uniqueName(prefix) {
	seq += 1;
	return `${prefix}_${Date.now().toString(36)}_${process.pid}_${seq}`;
}

/** Registers a user through the frontend's JSON route (what the old script did). */
export async function registerViaApi(username, password) {
	const res = await getJson(`${base}/auth/register`, {
		json: { username, email: `${username}@example.test`, password },
		timeoutMs: 30_000,
	});
	assert.equal(res.status, 201, `registering ${username}: ${res.status} ${res.text}`);
	return res.body;
}

/** The whole catalogue, as the frontend passes it through. */
export async function catalogue() {
	const res = await getJson(`${base}/api/products`, { timeoutMs: 30_000 });
	assert.equal(res.status, 200, res.text);
	assert.ok(Array.isArray(res.body), 'the catalogue is a list');
	return res.body;
}

/**
 * Fills and posts the register form of /login (the page must be showing it), then waits
 * for the page the server redirects to.
 */
export async function registerThroughForm(page, username, password) {
	await page.locator('#register-username').fill(username);
	await page.locator('#register-email').fill(`${username}@example.test`);
	await page.locator('#register-password').fill(password);
	await clickAndLoad(page, page.getByRole('button', { name: 'Create account' }));
}

/** The home page's header says the user is signed in as `username`. */
export async function assertSignedIn(page, username) {
	const signedIn = page.locator('header .signed-in');
	await signedIn.waitFor({ state: 'visible' });
	assert.equal(await textOf(signedIn), `Signed in as ${username}`);
	assert.equal(await page.getByRole('link', { name: 'Log in / Register' }).count(), 0);
}

/** The header offers "Log in / Register" and names nobody. */
export async function assertSignedOut(page) {
	await page.getByRole('link', { name: 'Log in / Register' }).waitFor({ state: 'visible' });
	assert.equal(await page.locator('header .signed-in').count(), 0);
	assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0);
}

/**
 * Makes every picture load now (lazy ones included) and waits until they have, and
 * until fonts are ready: so that full-page screenshots show the whole page.
 */
export async function settleImages(page) {
	await page.evaluate(async () => {
		const imgs = Array.from(document.images);
		for (const img of imgs) img.loading = 'eager';
		await Promise.all(
			imgs.map((img) =>
				img.complete
					? null
					: new Promise((resolve) => {
							img.addEventListener('load', resolve, { once: true });
							img.addEventListener('error', resolve, { once: true });
						}),
			),
		);
		await document.fonts.ready;
	});
}

/** Saves a screenshot under artifactsDir and returns its path. */
export async function screenshot(page, name, { fullPage = true } = {}) {
	fs.mkdirSync(artifactsDir, { recursive: true });
	const file = path.join(artifactsDir, name);
	await page.screenshot({ path: file, fullPage, animations: 'disabled', timeout: 60_000 });
	return file;
}
