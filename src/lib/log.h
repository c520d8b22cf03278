/* log.h — runc-compatible logging: `--log FILE`, `--log-format text|json`.
 *
 * containerd and podman read the runtime's log file; in json format each line is
 * {"level":"error","msg":"...","time":"2006-01-02T15:04:05Z07:00"} as runc writes it.
 * Errors always also go to stderr (once), as runc prints them. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

enum husk_log_level { HUSK_LOG_ERROR, HUSK_LOG_WARNING, HUSK_LOG_INFO, HUSK_LOG_DEBUG };

/* path may be NULL (stderr only). json selects the json-lines format. Returns -1 if the
 * log file cannot be opened (errno set). */
int husk_log_init(const char *path, int json, int debug);
void husk_log(enum husk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fd of the log file or -1; the container setup keeps it open until exec (O_CLOEXEC). */
int husk_log_fd(void);

#endif
