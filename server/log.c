/* log.c - the daemon's stderr log: one line per event, formatted in full
 * before a single write so that lines from several threads never interleave. */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int g_level = LC_LOG_INFO;
static const char *const g_names[] = {"debug", "info", "warn", "error"};

void lc_log_set_level(int level) { g_level = level; }

int lc_log_parse_level(const char *s) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, g_names[i]) == 0) return i;
  if (strcmp(s, "warning") == 0) return LC_LOG_WARN;
  return -1;
}

int lc_log_enabled(int level) { return level >= g_level; }

void lc_log(int level, int64_t conn, int64_t msgid, const char *fmt, ...) {
  if (!lc_log_enabled(level)) return;
  char line[1024];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s", ts.tv_nsec / 1000000L,
                        g_names[level < 0 ? 0 : level > 3 ? 3 : level]);
  if (conn >= 0) n += (size_t)snprintf(line + n, sizeof line - n, " conn=%lld", (long long)conn);
  if (msgid >= 0)
    n += (size_t)snprintf(line + n, sizeof line - n, " msgid=%lld", (long long)msgid);
  line[n++] = ' ';
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  n = (m < 0) ? n : (n + (size_t)m >= sizeof line - 1 ? sizeof line - 2 : n + (size_t)m);
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, n);
  (void)w;
}
