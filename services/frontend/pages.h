/* pages.h - the server-rendered pages: data gathered from the backends in
 * parallel, shaped into the templates' context, rendered with escaping. */
#ifndef FRONTEND_PAGES_H
#define FRONTEND_PAGES_H

#include "craft/http.h"

void page_home(craft_req *req);  /* GET / */
void page_cards(craft_req *req); /* GET /fragments/cards?page=N */
void page_login(craft_req *req); /* GET /login */

/* The short form of a story: at most `max` characters, cut at a word. */
const char *page_shorten(craft_arena *a, const char *text, size_t max, bool *cut);

#endif
