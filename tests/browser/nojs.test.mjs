// The shop with JavaScript turned off: every form posts and the server redirects back
// (register, vote, withdraw, log out), and "More origami" is a plain link to page 2.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	base,
	pageSize,
	startBrowser,
	newContext,
	clickAndLoad,
	textOf,
	cardVotes,
	cardIds,
	uniqueName,
	catalogue,
	registerThroughForm,
	assertSignedIn,
	assertSignedOut,
} from './lib/browser.mjs';

const PASSWORD = 'folded-fox-1234';

describe('shop without JavaScript', () => {
	let browser;
	before(async () => {
		browser = await startBrowser();
	});
	after(async () => {
		await browser?.close();
	});

	test('register, vote, withdraw, next page and log out through plain forms and links', async () => {
		const context = await newContext(browser, { javaScriptEnabled: false });
		try {
			const page = await context.newPage();
			const username = uniqueName('nojs');
			const total = (await catalogue()).length;

			await page.goto(`${base}/`);
			await assertSignedOut(page);

			// Register: the form posts, the server signs the user in and goes home.
			await page.goto(`${base}/login`);
			await registerThroughForm(page, username, PASSWORD);
			assert.equal(new URL(page.url()).pathname, '/');
			await assertSignedIn(page, username);
			assert.match(await textOf(page.locator('.flash')), new RegExp(`Welcome to Craftista, ${username}`));

			// Vote through the card's form: back on the page at that card, one vote more.
			// A card of this test's own (the third card), so that the files may also run side by side.
			const card = page.locator('article.card').nth(2);
			const cardId = await card.getAttribute('id');
			assert.match(cardId, /^origami-\d+$/);
			const mine = page.locator(`#${cardId}`);
			const button = mine.locator('button.vote-button');
			assert.equal(await textOf(button), 'Vote');
			assert.equal(await button.getAttribute('aria-pressed'), 'false');
			const before = await cardVotes(mine);
			await clickAndLoad(page, button);
			assert.equal(new URL(page.url()).pathname, '/');
			assert.equal(new URL(page.url()).hash, `#${cardId}`);
			assert.equal(await cardVotes(mine), before + 1);
			assert.equal(await textOf(button), 'Withdraw vote');
			assert.equal(await button.getAttribute('aria-pressed'), 'true');
			assert.equal(await mine.locator('input[name="_method"]').inputValue(), 'delete');
			assert.match(await textOf(page.locator('.flash')), /Vote recorded/);

			// Withdraw the same way.
			await clickAndLoad(page, button);
			assert.equal(new URL(page.url()).hash, `#${cardId}`);
			assert.equal(await cardVotes(mine), before);
			assert.equal(await textOf(button), 'Vote');
			assert.equal(await button.getAttribute('aria-pressed'), 'false');
			assert.equal(await mine.locator('input[name="_method"]').count(), 0);
			assert.match(await textOf(page.locator('.flash')), /Vote withdrawn/);

			// "More origami" is a link to page 2, with other cards.
			const page1 = await cardIds(page);
			assert.equal(page1.length, pageSize);
			assert.equal(await page.locator('a.pager-prev').count(), 0, 'page 1 has no "Previous"');
			await clickAndLoad(page, page.getByRole('link', { name: 'More origami' }));
			const url = new URL(page.url());
			assert.equal(url.searchParams.get('page'), '2');
			assert.equal(url.hash, '#more');
			const page2 = await cardIds(page);
			assert.equal(page2.length, Math.min(pageSize, total - pageSize));
			assert.deepEqual(page2.filter((id) => page1.includes(id)), [], 'page 2 repeats cards of page 1');
			assert.equal(await page.locator('#more').count(), 1);
			assert.equal(await page.locator('a.pager-prev').getAttribute('href'), '/?page=1');
			await assertSignedIn(page, username);

			// Log out through the header's form.
			await clickAndLoad(page, page.getByRole('button', { name: 'Log out' }));
			assert.equal(new URL(page.url()).pathname, '/');
			await assertSignedOut(page);
			assert.equal(await page.locator('form.vote-form').count(), 0);
		} finally {
			await context.close();
		}
	});
});
