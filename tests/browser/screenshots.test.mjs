// Screenshots of the main pages for people to look at (tests/browser/artifacts/,
// git-ignored): the home page on a desktop and on a phone, the login page, and the
// signed-in and error states. Each shot is also checked for console errors and for a
// page no wider than its viewport (no sideways scrolling).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	base,
	startBrowser,
	newContext,
	collectErrors,
	clickAndLoad,
	textOf,
	eventually,
	uniqueName,
	registerViaApi,
	registerThroughForm,
	assertSignedIn,
	settleImages,
	screenshot,
} from './lib/browser.mjs';

const DESKTOP = { viewport: { width: 1280, height: 900 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function assertNoSidewaysScroll(page) {
	const { scroll, client } = await page.evaluate(() => ({
		scroll: document.documentElement.scrollWidth,
		client: document.documentElement.clientWidth,
	}));
	assert.ok(scroll <= client, `the page is wider (${scroll} px) than the viewport (${client} px)`);
}

describe('screenshots', () => {
	let browser;
	const saved = [];
	before(async () => {
		browser = await startBrowser();
	});
	after(async () => {
		await browser?.close();
		if (saved.length) console.log(`screenshots:\n${saved.map((f) => `  ${f}`).join('\n')}`);
	});

	/** Opens `path` in a fresh context with `options`, runs `prepare`, saves `name`. */
	async function shoot(t, name, path, options, prepare) {
		const context = await newContext(browser, options);
		try {
			const page = await context.newPage();
			const errors = collectErrors(page);
			await page.goto(`${base}${path}`);
			if (prepare) await prepare(page);
			await settleImages(page);
			await assertNoSidewaysScroll(page);
			const file = await screenshot(page, name);
			saved.push(file);
			t.diagnostic(file);
			assert.deepEqual(errors, [], 'console or page errors');
		} finally {
			await context.close();
		}
	}

	test('home page, desktop', async (t) => {
		await shoot(t, 'home-desktop.png', '/', DESKTOP);
	});

	test('home page, phone', async (t) => {
		await shoot(t, 'home-phone.png', '/', PHONE);
	});

	test('login page, desktop', async (t) => {
		await shoot(t, 'login-desktop.png', '/login', DESKTOP);
	});

	test('login page, phone', async (t) => {
		await shoot(t, 'login-phone.png', '/login', PHONE);
	});

	test('login page with errors, desktop', async (t) => {
		await shoot(t, 'login-errors-desktop.png', '/login', DESKTOP, async (page) => {
			await page.locator('#login-username').fill(uniqueName('nobody'));
			await page.locator('#login-password').fill('wrong-password');
			await clickAndLoad(page, page.getByRole('button', { name: 'Log in', exact: true }));
			await page.locator('#login-error').waitFor({ state: 'visible' });
		});
	});

	test('register form with a taken username, desktop', async (t) => {
		const username = uniqueName('taken');
		await registerViaApi(username, 'origami-shots-1');
		await shoot(t, 'register-error-desktop.png', '/login', DESKTOP, async (page) => {
			await page.locator('#register-username').fill(username);
			await page.locator('#register-email').fill(`${uniqueName('other')}@example.test`);
			await page.locator('#register-password').fill('origami-shots-1');
			await clickAndLoad(page, page.getByRole('button', { name: 'Create account' }));
			await page.locator('#register-username-error').waitFor({ state: 'visible' });
		});
	});

	/** Registers a new user through the form and votes on the first card. */
	async function signedInAfterVote(page) {
		const username = uniqueName('shot');
		await registerThroughForm(page, username, 'origami-shots-1');
		await assertSignedIn(page, username);
		const button = page.locator('article.card').first().locator('button.vote-button');
		await button.click();
		await eventually('the vote shows', async () => assert.equal(await textOf(button), 'Withdraw vote'));
		await page.evaluate(() => window.scrollTo(0, 0));
	}

	test('home page signed in after a vote, desktop', async (t) => {
		await shoot(t, 'home-signed-in-desktop.png', '/login', DESKTOP, signedInAfterVote);
	});

	test('home page signed in after a vote, phone', async (t) => {
		await shoot(t, 'home-signed-in-phone.png', '/login', PHONE, signedInAfterVote);
	});
});
