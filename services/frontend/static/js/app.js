/* Craftista: progressive enhancement for the server-rendered pages.
 * Every feature here has a plain HTML fallback (forms post and redirect, links load
 * pages); this script only makes voting, the status dashboard and paging update in
 * place. No inline code, no external requests. */
(function () {
	'use strict';

	var STATUS_INTERVAL_MS = 15000;
	var NOTE_MS = 4000;
	var noteTimers = new WeakMap();

	function announce(text) {
		var region = document.getElementById('announcer');
		if (!region) {
			return;
		}
		region.textContent = '';
		/* A fresh change after clearing makes screen readers repeat equal messages. */
		window.setTimeout(function () {
			region.textContent = text;
		}, 50);
	}

	function votesLabel(n) {
		return n === 1 ? '1 vote' : n + ' votes';
	}

	function readJson(response) {
		return response.json().catch(function () {
			return {};
		});
	}

	/* ---- Voting ---------------------------------------------------------- */

	function showNote(card, text, isError) {
		var note = card && card.querySelector('.card-note');
		if (!note) {
			return;
		}
		window.clearTimeout(noteTimers.get(note));
		note.textContent = text;
		note.classList.toggle('is-error', Boolean(isError));
		if (!isError) {
			noteTimers.set(note, window.setTimeout(function () {
				note.textContent = '';
			}, NOTE_MS));
		}
	}

	function setVoted(form, voted) {
		var button = form.querySelector('.vote-button');
		var method = form.querySelector('input[name="_method"]');
		if (button) {
			button.textContent = voted ? 'Withdraw vote' : 'Vote';
			button.setAttribute('aria-pressed', voted ? 'true' : 'false');
		}
		if (voted && !method) {
			method = document.createElement('input');
			method.type = 'hidden';
			method.name = '_method';
			method.value = 'delete';
			form.appendChild(method);
		} else if (!voted && method) {
			method.remove();
		}
	}

	function setCount(id, count) {
		var label = votesLabel(count);
		document.querySelectorAll('[data-origami="' + id + '"]').forEach(function (el) {
			el.textContent = label;
		});
	}

	function onVoteSubmit(event) {
		var form = event.currentTarget;
		var button = form.querySelector('.vote-button');
		var csrfInput = form.querySelector('input[name="_csrf"]');
		var card = form.closest('.card');
		var voted = button && button.getAttribute('aria-pressed') === 'true';

		event.preventDefault();
		if (!button || button.disabled) {
			return;
		}
		button.disabled = true;
		showNote(card, '', false);

		fetch(form.action, {
			method: voted ? 'DELETE' : 'POST',
			headers: {
				'Accept': 'application/json',
				'X-CSRF-Token': csrfInput ? csrfInput.value : ''
			},
			credentials: 'same-origin'
		}).then(function (response) {
			if (response.status === 401) {
				window.location.assign('/login');
				return null;
			}
			return readJson(response).then(function (data) {
				if (!response.ok) {
					var text = typeof data.error === 'string' && data.error.length < 140 ?
						data.error : 'Sorry, your vote could not be saved. Please try again.';
					showNote(card, text, true);
					return;
				}
				var nowVoted = typeof data.voted === 'boolean' ? data.voted : !voted;
				if (typeof data.new_vote_count === 'number') {
					setCount(form.getAttribute('data-id'), data.new_vote_count);
				}
				setVoted(form, nowVoted);
				showNote(card, data.message || (nowVoted ? 'Vote recorded!' : 'Vote withdrawn'), false);
			});
		}).catch(function () {
			showNote(card, 'Could not reach the shop. Check your connection and try again.', true);
		}).then(function () {
			button.disabled = false;
		});
	}

	function wireVoteForms(root) {
		root.querySelectorAll('form.vote-form').forEach(function (form) {
			if (form.getAttribute('data-wired')) {
				return;
			}
			form.setAttribute('data-wired', '1');
			form.addEventListener('submit', onVoteSubmit);
		});
	}

	/* ---- Backend status dashboard ----------------------------------------- */

	function updateStatus(list, states) {
		var changes = [];
		list.querySelectorAll('[data-service]').forEach(function (item) {
			var name = item.getAttribute('data-service');
			if (!Object.prototype.hasOwnProperty.call(states, name)) {
				return;
			}
			var up = states[name] === 'up';
			var state = item.querySelector('.status-state');
			if (item.classList.contains('is-up') !== up) {
				changes.push(name + ' is now ' + (up ? 'up' : 'down'));
			}
			item.classList.toggle('is-up', up);
			item.classList.toggle('is-down', !up);
			if (state) {
				state.textContent = up ? 'up' : 'down';
			}
		});
		if (changes.length) {
			announce(changes.join('. ') + '.');
		}
	}

	function pad(n) {
		return n < 10 ? '0' + n : String(n);
	}

	function startStatus() {
		var list = document.getElementById('status-list');
		var note = document.getElementById('status-note');
		var timer = null;
		if (!list) {
			return;
		}

		function refresh() {
			fetch('/api/service-status', {
				headers: { 'Accept': 'application/json' },
				credentials: 'same-origin'
			}).then(function (response) {
				if (!response.ok) {
					throw new Error('status ' + response.status);
				}
				return response.json();
			}).then(function (states) {
				var t = new Date();
				updateStatus(list, states || {});
				if (note) {
					note.textContent = 'Live · checked at ' + pad(t.getHours()) + ':' +
						pad(t.getMinutes()) + ':' + pad(t.getSeconds());
				}
			}).catch(function () {
				if (note) {
					note.textContent = 'Could not refresh the status; retrying shortly.';
				}
			});
		}

		function schedule() {
			window.clearInterval(timer);
			timer = document.hidden ? null : window.setInterval(refresh, STATUS_INTERVAL_MS);
		}

		document.addEventListener('visibilitychange', function () {
			if (!document.hidden) {
				refresh();
			}
			schedule();
		});
		if (note) {
			note.textContent = 'Live · refreshed every 15 seconds';
		}
		schedule();
	}

	/* ---- More cards as you scroll ----------------------------------------- */

	function startLoadMore() {
		var link = document.querySelector('.load-more');
		var grid = document.getElementById('card-grid');
		var observer = null;
		var loading = false;
		if (!link || !grid) {
			return;
		}

		function finish() {
			if (observer) {
				observer.disconnect();
			}
			link.remove();
		}

		function append(html, moveFocus) {
			var tpl = document.createElement('template');
			var first = null;
			var added = 0;
			tpl.innerHTML = html;
			tpl.content.querySelectorAll('.page-anchor').forEach(function (el) {
				el.remove();
			});
			tpl.content.querySelectorAll('article.card').forEach(function (card) {
				if (card.id && document.getElementById(card.id)) {
					return;
				}
				grid.appendChild(card);
				wireVoteForms(card);
				first = first || card;
				added += 1;
			});
			if (first && moveFocus) {
				first.setAttribute('tabindex', '-1');
				first.focus();
			}
			return added;
		}

		function load(moveFocus) {
			var next = link.getAttribute('data-next-page');
			if (loading || !next) {
				return;
			}
			loading = true;
			link.setAttribute('aria-busy', 'true');
			fetch('/fragments/cards?page=' + encodeURIComponent(next), {
				headers: { 'Accept': 'text/html' },
				credentials: 'same-origin'
			}).then(function (response) {
				if (!response.ok) {
					throw new Error('fragment ' + response.status);
				}
				var after = response.headers.get('X-Next-Page');
				return response.text().then(function (html) {
					var added = append(html, moveFocus);
					if (added === 0) {
						throw new Error('no new cards');
					}
					announce(added === 1 ? '1 more origami loaded.' : added + ' more origami loaded.');
					if (after && /^[0-9]+$/.test(after)) {
						link.setAttribute('data-next-page', after);
						link.setAttribute('href', '/?page=' + after + '#more');
						if (observer) {
							/* Observing again reports at once if the link is still in view. */
							observer.unobserve(link);
							observer.observe(link);
						}
					} else {
						finish();
					}
				});
			}).catch(function () {
				/* Leave the plain link in place; stop loading on scroll. */
				if (observer) {
					observer.disconnect();
					observer = null;
				}
			}).then(function () {
				loading = false;
				link.removeAttribute('aria-busy');
			});
		}

		link.addEventListener('click', function (event) {
			if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
				return;
			}
			event.preventDefault();
			load(true);
		});

		if ('IntersectionObserver' in window) {
			observer = new IntersectionObserver(function (entries) {
				if (entries.some(function (e) { return e.isIntersecting; })) {
					load(false);
				}
			}, { rootMargin: '0px 0px 400px 0px' });
			observer.observe(link);
		}
	}

	function start() {
		wireVoteForms(document);
		startStatus();
		startLoadMore();
	}

	if (document.readyState === 'loading') {
		document.addEventListener('DOMContentLoaded', start);
	} else {
		start();
	}
}());
