/*
 * commands.h - subcommands of the flowsift command-line tool.
 *
 * Each subcommand takes argv with argv[0] set to its own name and returns the
 * process exit status: 0 on success, 1 on a runtime failure, 2 on a usage
 * error.
 */
#ifndef FS_CMD_COMMANDS_H
#define FS_CMD_COMMANDS_H

int cmd_decode(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_graph(int argc, char **argv);

/*
 * Prints "run 'flowsift COMMAND --help' for the options" on stderr, the
 * line that follows the message of a usage error in place of the help.
 */
void usage_hint(const char *command);

#endif
