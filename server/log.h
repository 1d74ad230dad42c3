/* log.h - one-line event log on stderr for the locad daemon:
 * "<UTC time> <level> conn=<id> msgid=<id> <message>", filtered by level. */
#ifndef LC_SERVER_LOG_H
#define LC_SERVER_LOG_H

#include <stdint.h>

enum { LC_LOG_DEBUG = 0, LC_LOG_INFO = 1, LC_LOG_WARN = 2, LC_LOG_ERROR = 3 };

/* Sets the lowest level that is written (default LC_LOG_INFO). */
void lc_log_set_level(int level);

/* Parses "debug", "info", "warn" or "error"; returns the level or -1. */
int lc_log_parse_level(const char *s);

/* Whether a message at level would be written. */
int lc_log_enabled(int level);

/* Writes one line; conn < 0 and msgid < 0 are left out. Thread-safe. */
void lc_log(int level, int64_t conn, int64_t msgid, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
