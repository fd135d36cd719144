// The shop in a real browser with JavaScript on: a visitor registers, votes in place,
// sees the vote survive a reload, withdraws it and logs out; scrolling loads the rest of
// the collection; the login and register forms show their errors where they belong.
// No console errors and no page errors anywhere.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	base,
	pageSize,
	startBrowser,
	newContext,
	collectErrors,
	countNavigations,
	eventually,
	clickAndLoad,
	textOf,
	cardVotes,
	cardIds,
	uniqueName,
	registerViaApi,
	catalogue,
	registerThroughForm,
	assertSignedIn,
	assertSignedOut,
} from './lib/browser.mjs';

const PASSWORD = 'paper-crane-42';

describe('shop with JavaScript', () => {
	let browser;
	before(async () => {
		browser = await startBrowser();
	});
	after(async () => {
		await browser?.close();
	});

	test('register, vote in place, reload, withdraw, log out: no console errors', async () => {
		const context = await newContext(browser);
		try {
			const page = await context.newPage();
			const errors = collectErrors(page);
			const username = uniqueName('js');

			await page.goto(`${base}/`);
			await assertSignedOut(page);
			// The dashboard lists the four backends, each up in words (the whole stack runs;
			// a busy machine may make a backend miss the page's deadline once: reload then).
			const items = page.locator('#status-list [data-service]');
			await eventually(
				'every backend shown up',
				async () => {
					const shown = await items.evaluateAll((els) =>
						els.map((el) => [
							el.getAttribute('data-service'),
							el.querySelector('.status-state')?.textContent.trim(),
							el.classList.contains('is-up'),
						]),
					);
					try {
						assert.deepEqual(shown.sort(), [
							['Authentication', 'up', true],
							['Catalogue', 'up', true],
							['Recommendation', 'up', true],
							['Voting', 'up', true],
						]);
					} catch (err) {
						await page.reload();
						throw err;
					}
				},
				{ timeout: 60_000, interval: 1_000 },
			);
			// Not logged in: no vote buttons, a way to log in instead.
			assert.equal(await page.locator('form.vote-form').count(), 0);
			assert.ok((await page.locator('article.card a[href="/login"]').count()) > 0);

			// Register through /login's form: back on the home page, signed in.
			await clickAndLoad(page, page.getByRole('link', { name: 'Log in / Register' }));
			assert.equal(new URL(page.url()).pathname, '/login');
			await registerThroughForm(page, username, PASSWORD);
			assert.equal(new URL(page.url()).pathname, '/');
			await assertSignedIn(page, username);

			// Vote on a card: the count goes up by one in place.
			// A card of this test's own (the second card), so that the files may also run side by side.
			const card = page.locator('article.card').nth(1);
			const cardId = await card.getAttribute('id');
			assert.match(cardId, /^origami-\d+$/);
			const mine = page.locator(`#${cardId}`);
			const button = mine.locator('button.vote-button');
			assert.equal(await textOf(button), 'Vote');
			const before = await cardVotes(mine);
			const navs = countNavigations(page);
			const urlBefore = page.url();
			const voted = page.waitForResponse(
				(r) => r.url().endsWith(`/api/origamis/${cardId.slice(8)}/vote`) && r.request().method() === 'POST',
			);
			await button.click();
			assert.equal((await voted).status(), 200);
			await eventually('count after voting', async () => assert.equal(await cardVotes(mine), before + 1));
			await eventually('button after voting', async () => {
				assert.equal(await textOf(button), 'Withdraw vote');
				assert.equal(await button.getAttribute('aria-pressed'), 'true');
				assert.equal(await button.isEnabled(), true);
			});
			assert.equal(navs.n, 0, 'voting must not navigate');
			assert.equal(page.url(), urlBefore);

			// Reload: the vote and the count persisted.
			await page.reload();
			await assertSignedIn(page, username);
			assert.equal(await textOf(button), 'Withdraw vote');
			assert.equal(await button.getAttribute('aria-pressed'), 'true');
			assert.equal(await cardVotes(mine), before + 1);

			// Withdraw, in place too.
			const navsAfterReload = navs.n;
			const withdrawn = page.waitForResponse(
				(r) => r.url().endsWith(`/api/origamis/${cardId.slice(8)}/vote`) && r.request().method() === 'DELETE',
			);
			await button.click();
			assert.equal((await withdrawn).status(), 200);
			await eventually('count after withdrawing', async () => assert.equal(await cardVotes(mine), before));
			await eventually('button after withdrawing', async () => {
				assert.equal(await textOf(button), 'Vote');
				assert.equal(await button.getAttribute('aria-pressed'), 'false');
			});
			assert.equal(navs.n, navsAfterReload, 'withdrawing must not navigate');

			// Log out: the header offers "Log in / Register" again.
			await clickAndLoad(page, page.getByRole('button', { name: 'Log out' }));
			assert.equal(new URL(page.url()).pathname, '/');
			await assertSignedOut(page);
			assert.equal(await page.locator('form.vote-form').count(), 0);

			assert.deepEqual(errors, [], 'console or page errors');
		} finally {
			await context.close();
		}
	});

	test('scrolling to the bottom loads the rest of the collection', async () => {
		const context = await newContext(browser);
		try {
			const page = await context.newPage();
			const errors = collectErrors(page);
			const total = (await catalogue()).length;
			assert.ok(total > pageSize, `the catalogue (${total}) has more than one page (${pageSize})`);

			const fragments = [];
			page.on('response', (r) => {
				if (new URL(r.url()).pathname === '/fragments/cards') fragments.push(r);
			});
			const res = await page.goto(`${base}/`);
			// The server renders one page of cards; the rest comes as you scroll.
			const served = ((await res.text()).match(/<article class="card"/g) ?? []).length;
			assert.equal(served, pageSize);
			await page.locator('article.card').first().waitFor();
			const first = await page.locator('article.card').count();
			assert.ok(first >= pageSize);

			// Scroll to the bottom until every card is there (each scroll may load a page).
			await eventually(
				'all cards loaded by scrolling',
				async () => {
					await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
					const n = await page.locator('article.card').count();
					assert.equal(n, total);
				},
				{ timeout: 60_000, interval: 500 },
			);
			assert.ok(fragments.length >= 1, 'cards came from /fragments/cards');
			for (const r of fragments) assert.equal(r.status(), 200);

			// Each card once, in catalogue order, and no "More origami" link left.
			const ids = await cardIds(page);
			assert.equal(new Set(ids).size, ids.length, `duplicate cards: ${ids}`);
			const expected = (await catalogue()).map((p) => `origami-${p.id}`);
			assert.deepEqual(ids, expected);
			await eventually('the load-more link is gone', async () =>
				assert.equal(await page.locator('a.load-more').count(), 0),
			);
			assert.deepEqual(errors, [], 'console or page errors');
		} finally {
			await context.close();
		}
	});

	test('a wrong password and a taken username show their errors next to the fields', async () => {
		const context = await newContext(browser);
		try {
			const page = await context.newPage();
			const errors = collectErrors(page);
			const username = uniqueName('taken');
			await registerViaApi(username, PASSWORD);

			// Wrong password: the error sits in the login form's section; the name stays.
			await page.goto(`${base}/login`);
			const loginSection = page.locator('section:has(#login-username)');
			await page.locator('#login-username').fill(username);
			await page.locator('#login-password').fill('not-the-password');
			await clickAndLoad(page, page.getByRole('button', { name: 'Log in', exact: true }));
			assert.equal(new URL(page.url()).pathname, '/login');
			const loginError = loginSection.locator('[role="alert"]');
			await loginError.waitFor({ state: 'visible' });
			assert.ok((await textOf(loginError)).length > 0, 'the login error says something');
			assert.equal(await page.locator('#login-username').inputValue(), username);
			assert.equal(await page.locator('#login-password').inputValue(), '');
			assert.equal(await page.locator('#login-username').getAttribute('aria-invalid'), 'true');
			assert.equal(await page.locator('.flash').count(), 0, 'the error is not (also) a banner');
			await assertSignedOut(page);

			// Taken username: the message is under the username field, values kept.
			await page.goto(`${base}/login`);
			const email = `${uniqueName('other')}@example.test`;
			await page.locator('#register-username').fill(username);
			await page.locator('#register-email').fill(email);
			await page.locator('#register-password').fill(PASSWORD);
			await clickAndLoad(page, page.getByRole('button', { name: 'Create account' }));
			assert.equal(new URL(page.url()).pathname, '/login');
			const field = page.locator('.field:has(#register-username)');
			const fieldError = field.locator('#register-username-error');
			await fieldError.waitFor({ state: 'visible' });
			assert.match(await textOf(fieldError), /already/i);
			const input = page.locator('#register-username');
			assert.equal(await input.getAttribute('aria-invalid'), 'true');
			assert.ok((await input.getAttribute('aria-describedby')).split(/\s+/).includes('register-username-error'));
			assert.equal(await input.inputValue(), username);
			assert.equal(await page.locator('#register-email').inputValue(), email);
			assert.equal(await page.locator('#register-email').getAttribute('aria-invalid'), null);
			assert.equal(await page.locator('.field-error').count(), 1, 'only the username field has an error');
			await assertSignedOut(page);

			assert.deepEqual(errors, [], 'console or page errors');
		} finally {
			await context.close();
		}
	});
});
