/*
 * config_check.h - `flowsift config check`: runs every value that a program
 * parses at start through the parser that program uses, so that a value
 * which would stop a program is found before it starts.
 */
#ifndef FS_CMD_CONFIG_CHECK_H
#define FS_CMD_CONFIG_CHECK_H

#include <stddef.h>

struct fs_config;

/*
 * Checks the values of config that fs_config_load() cannot check alone:
 * listen addresses, redis.url, the detect.* settings, alert.syslog.target
 * and the kafka.* pass-through properties.  Resolves host names but opens
 * no connection.  Returns 0, or a negative fs_result with "KEY: reason" of
 * the first invalid value in err.
 */
int config_check_values(const struct fs_config *config, char *err, size_t err_len);

#endif
