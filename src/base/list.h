/* SPDX-License-Identifier: BSD-3-Clause */
/* Intrusive doubly linked lists. */
#ifndef TT_BASE_LIST_H
#define TT_BASE_LIST_H

#include <stddef.h>
#include <stdbool.h>

#define tt_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct tt_list {
	struct tt_list *next, *prev;
};

#define TT_LIST_INIT(name) { &(name), &(name) }

static inline void tt_list_init(struct tt_list *l) { l->next = l->prev = l; }
static inline bool tt_list_empty(const struct tt_list *l) { return l->next == l; }
/* A node that is not on any list (after tt_list_init or tt_list_del). */
static inline bool tt_list_linked(const struct tt_list *n) { return n->next != n; }

static inline void tt_list__add(struct tt_list *n, struct tt_list *prev, struct tt_list *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void tt_list_add(struct tt_list *head, struct tt_list *n) { tt_list__add(n, head, head->next); }
static inline void tt_list_add_tail(struct tt_list *head, struct tt_list *n) { tt_list__add(n, head->prev, head); }

static inline void tt_list_del(struct tt_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	tt_list_init(n);
}

/* The number of nodes on @head (walks the list). */
static inline unsigned tt_list_count(const struct tt_list *head)
{
	unsigned k = 0;

	for (const struct tt_list *n = head->next; n != head; n = n->next)
		k++;
	return k;
}

static inline struct tt_list *tt_list_pop(struct tt_list *head)
{
	struct tt_list *n;

	if (tt_list_empty(head))
		return NULL;
	n = head->next;
	tt_list_del(n);
	return n;
}

/* Move every node of @from to the tail of @to. */
static inline void tt_list_splice_tail(struct tt_list *to, struct tt_list *from)
{
	if (tt_list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	tt_list_init(from);
}

#define tt_list_entry(ptr, type, member) tt_container_of(ptr, type, member)
#define tt_list_first(head, type, member) \
	(tt_list_empty(head) ? NULL : tt_list_entry((head)->next, type, member))

#define tt_list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)
#define tt_list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#endif
