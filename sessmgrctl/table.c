/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "alloc-util.h"
#include "table.h"
#include "text.h"

struct Table {
        size_t columns;
        char **cells;           /* headers first, then rows, row-major */
        size_t cell_count, allocated;
        bool *highlighted;      /* one per row, the headers are row 0 */
        size_t highlighted_allocated;
};

char *text_sanitize(const char *text) {
        /* Non-ASCII passes to a UTF-8 terminal only: elsewhere its bytes may be C1 controls. */
        bool utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

        return text_escape(text, 0, utf8 ? 0 : TEXT_ESCAPE_ASCII);
}

size_t text_width(const char *text) {
        mbstate_t state = {};
        size_t width = 0, length = strlen(text);

        while (length > 0) {
                wchar_t character;
                size_t consumed = mbrtowc(&character, text, length, &state);
                int columns;

                if (consumed == (size_t) -1 || consumed == (size_t) -2) {
                        /* Not valid in this locale: count bytes, never underestimate. */
                        return width + length;
                }
                if (consumed == 0)
                        break;
                columns = wcwidth(character);
                width += columns > 0 ? (size_t) columns : 0;
                text += consumed;
                length -= consumed;
        }
        return width;
}

Table *table_new(size_t columns, const char *const *headers) {
        Table *table = calloc(1, sizeof(*table));

        if (!table)
                return NULL;
        table->columns = columns;
        for (size_t i = 0; i < columns; i++)
                if (table_add_cell(table, headers[i]) < 0)
                        return table_free(table);
        return table;
}

Table *table_free(Table *table) {
        if (!table)
                return NULL;
        for (size_t i = 0; i < table->cell_count; i++)
                free(table->cells[i]);
        free(table->cells);
        free(table->highlighted);
        free(table);
        return NULL;
}

int table_add_cell(Table *table, const char *text) {
        if (!GREEDY_REALLOC(table->cells, table->allocated, table->cell_count + 1))
                return -ENOMEM;

        if (table->cell_count % table->columns == 0) {
                size_t row = table->cell_count / table->columns;

                if (!GREEDY_REALLOC(table->highlighted, table->highlighted_allocated, row + 1))
                        return -ENOMEM;
                table->highlighted[row] = false;
        }

        table->cells[table->cell_count] = text_sanitize(text);
        if (!table->cells[table->cell_count])
                return -ENOMEM;
        table->cell_count++;
        return 0;
}

void table_highlight_row(Table *table) {
        /* The row being filled: the last one, or none yet when the row is empty. */
        if (table->cell_count % table->columns != 0)
                table->highlighted[table->cell_count / table->columns] = true;
}

int table_print(Table *table, FILE *output, bool colour) {
        _cleanup_(freep) size_t *widths = calloc(table->columns, sizeof(size_t));
        size_t rows = table->cell_count / table->columns;

        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < rows * table->columns; i++) {
                size_t width = text_width(table->cells[i]);
                if (width > widths[i % table->columns])
                        widths[i % table->columns] = width;
        }

        for (size_t row = 0; row < rows; row++) {
                bool bold = colour && table->highlighted[row];

                if (bold)
                        fputs("\033[1m", output);
                for (size_t column = 0; column < table->columns; column++) {
                        const char *cell = table->cells[row * table->columns + column];
                        bool last = column + 1 == table->columns;

                        fputs(cell, output);
                        if (!last)
                                fprintf(output, "%*s", (int) (widths[column] - text_width(cell) + 2), "");
                }
                if (bold)
                        fputs("\033[0m", output);
                fputc('\n', output);
        }
        return ferror(output) ? -EIO : 0;
}
