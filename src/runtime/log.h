/* log.h — runc-compatible logging: `--log FILE`, `--log-format text|json`, `--debug`.
 *
 * containerd and podman read the runtime's log file; each line is what runc (logrus)
 * writes: text  time="2006-01-02T15:04:05Z" level=error msg="..."
 *         json  {"level":"error","msg":"...","time":"2006-01-02T15:04:05Z"}
 * Errors and warnings always also go to stderr (once, "husk: ..."), as runc prints
 * them. With --debug, log_debug() lines name each step husk takes, from whichever of
 * the create's processes takes it, to --log or else to stderr in the same format. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

enum husk_log_level { HUSK_LOG_ERROR, HUSK_LOG_WARNING, HUSK_LOG_INFO, HUSK_LOG_DEBUG };

/* path may be NULL (stderr only). json selects the json-lines format. Returns -1 if the
 * log file cannot be opened (errno set). The fds it opens are close-on-exec, so no
 * hook and no container process ever holds one. */
int husk_log_init(const char *path, int json, int debug);
void husk_log(enum husk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One step, for --debug: log_debug("mounts done"). Nothing without --debug. */
#define log_debug(...) husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)
/* fd of the log file or -1; the container setup keeps it open until exec (O_CLOEXEC). */
int husk_log_fd(void);
/* Close the copy of stderr that --debug (without --log) writes to: the container's init
 * calls this before it waits for `husk start`, so that a caller reading create's stderr
 * to its end is not kept waiting by the init. */
void husk_log_release_stderr(void);

#endif
