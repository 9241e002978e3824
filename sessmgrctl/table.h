/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

/* A text table whose columns are as wide as their widest cell. Cells are copied with
 * text_sanitize(), so nothing stored in a record can drive the terminal. */

typedef struct Table Table;

Table *table_new(size_t columns, const char *const *headers);
Table *table_free(Table *table);
DEFINE_POINTER_CLEANUP_FUNC(Table, table_free);

/* Adds a cell to the current row; a new row starts after the last column. NULL → "-". */
int table_add_cell(Table *table, const char *text);
/* Marks the row being filled (after its first cell) to be shown bold on a colour terminal. */
void table_highlight_row(Table *table);

int table_print(Table *table, FILE *output, bool colour);

/* Copies text (NULL: "-") for this terminal: control, bidi and other format characters
 * and invalid UTF-8 escaped as "\xHH" (text_escape()), every non-ASCII byte too unless
 * the locale is UTF-8. Text that the daemon stored escaped shows as it is. Every text a
 * sessmgrctl command prints from a record goes through this. */
char *text_sanitize(const char *text);
/* Columns the text takes on a terminal (UTF-8 aware). */
size_t text_width(const char *text);
