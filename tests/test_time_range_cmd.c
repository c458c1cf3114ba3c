/*
 * test_time_range_cmd.c - --from and --to on the archive files of `flowsift
 * capture` in `flowsift print`, `report` and `graph`.  Flows are kept by
 * their receive time, and archive files that hold only older flows are not
 * read.  A range whose start is not before its end is rejected.
 *
 * The archive written here has one flow per file.  File names carry the
 * time the flow was written, which for the last file is long after the
 * flow was received, as when `flowsift capture` reads a backlog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive/archive_dir.h"
#include "archive/archive_writer.h"
#include "avro/flow_codec.h"
#include "core/flow.h"
#include "support/process.h"

#define OUTPUT_MAX (64 * 1024)
#define T0_S INT64_C(1700000000)
#define NS_PER_S INT64_C(1000000000)

struct fixture {
	char dir[64];
	char archive[96];
	char out[OUTPUT_MAX];
	char err[OUTPUT_MAX];
	int status;
};

/* One flow of the archive: its source address, receive time and write time. */
struct archived_flow {
	uint8_t last_octet;       /* source address 10.1.0.last_octet */
	int64_t received_s;       /* offset from T0_S */
	int64_t written_s;        /* offset from T0_S; names the file */
};

static const struct archived_flow archived[] = {
	{ 1, 0, 1 },
	{ 2, 3600, 3601 },
	{ 3, 7200, 7201 },
	{ 4, 10, 7202 },          /* a backlog: received long before it was written */
};

static void
read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs `flowsift ARGS` without a settings file; keeps stdout, stderr and the exit status. */
static void
run_flowsift(struct fixture *f, const char *args)
{
	char bin[256], cmd[2048], out_path[128], err_path[128];
	int rc;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	snprintf(cmd, sizeof(cmd), "FLOWSIFT_CONFIG=/dev/null %s %s >%s 2>%s", bin, args, out_path,
		 err_path);
	rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	f->status = WEXITSTATUS(rc);
	read_file(out_path, f->out, sizeof(f->out));
	read_file(err_path, f->err, sizeof(f->err));
}

static void
write_archive(const char *dir)
{
	struct fs_archive_options opt = { .dir = dir, .rotate_bytes = 1 };
	struct fs_archive_writer *w;
	struct fs_flow_codec *codec;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	char err[256];

	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(archived) / sizeof(archived[0]); i++) {
		uint8_t src[4] = { 10, 1, 0, archived[i].last_octet };
		struct fs_flow flow;
		size_t len;

		fs_flow_clear(&flow);
		flow.flow_type = FS_FLOW_IPFIX;
		flow.present = FS_F_SRC_ADDR | FS_F_BYTES | FS_F_PACKETS;
		fs_addr_set_v4(&flow.src_addr, src);
		flow.bytes = 100;
		flow.packets = 1;
		flow.time_received_ns = (T0_S + archived[i].received_s) * NS_PER_S;
		assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_archive_writer_append(w, buf, len,
							  (T0_S + archived[i].written_s) * NS_PER_S),
				 0);
	}
	assert_int_equal(fs_archive_writer_close(w), 0);
	assert_int_equal(fs_archive_writer_stats(w)->files_closed, 4);
	fs_archive_writer_free(w);
	fs_flow_codec_free(codec);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/fstest-range-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->archive, sizeof(f->archive), "%s/archive", f->dir);
	if (mkdir(f->archive, 0700) != 0) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	write_archive(f->archive);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

/* print keeps the flows received from --from on, whatever file they were written to. */
static void
print_folder_from(void **state)
{
	struct fixture *f = *state;
	char args[512];

	snprintf(args, sizeof(args), "print --format csv --no-header --fields src_addr "
		 "--from %lld %s", (long long)(T0_S + 7000), f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out, "10.1.0.3\n");
	assert_non_null(strstr(f->err, "left out 2 flows received outside --from/--to; "
				       "1 archive files before --from not read"));
}

/* Archive files named one by one, as a shell glob gives them, are skipped the same way. */
static void
print_glob_from(void **state)
{
	struct fixture *f = *state;
	char args[512];

	snprintf(args, sizeof(args), "print --format csv --no-header --fields src_addr "
		 "--from %lld %s/flows-*.avro", (long long)(T0_S + 7000), f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out, "10.1.0.3\n");
	assert_non_null(strstr(f->err, "1 archive files before --from not read"));

	snprintf(args, sizeof(args), "report src --from %lld %s/flows-*.avro",
		 (long long)(T0_S + 7000), f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "(1 archive files before --from not read)"));
}

/* --to keeps the flows received before it, also the one written to the newest file. */
static void
print_files_to(void **state)
{
	struct fixture *f = *state;
	char args[512];

	snprintf(args, sizeof(args), "print --format csv --no-header --fields src_addr "
		 "--to %lld %s/flows-*.avro", (long long)(T0_S + 3601), f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out, "10.1.0.1\n10.1.0.2\n10.1.0.4\n");
}

/* report sums only the flows in the range and reports how many it left out. */
static void
report_folder_range(void **state)
{
	struct fixture *f = *state;
	char args[512];

	snprintf(args, sizeof(args), "report src --format csv --from %lld %s",
		 (long long)(T0_S + 7000), f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out, "src_addr,bytes,packets,flows\n\"10.1.0.3\",100,1,1\n");

	snprintf(args, sizeof(args), "report src --from %lld %s", (long long)(T0_S + 7000),
		 f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "3 flows read, 2 received outside --from/--to "
				       "(1 archive files before --from not read), 1 matched"));

	snprintf(args, sizeof(args), "report src --format csv --from 2023-11-14T22:13:20Z "
		 "--to 2023-11-14T22:14:00Z %s", f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out, "src_addr,bytes,packets,flows\n\"10.1.0.1\",100,1,1\n"
				    "\"10.1.0.4\",100,1,1\n");

	/* The same range with a space, milliseconds, and print's forms: a date alone and "now". */
	snprintf(args, sizeof(args), "report src --format csv --from '2023-11-14 22:13:20' "
		 "--to 2023-11-14T22:14:00.000Z %s", f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out, "src_addr,bytes,packets,flows\n\"10.1.0.1\",100,1,1\n"
				    "\"10.1.0.4\",100,1,1\n");
	snprintf(args, sizeof(args), "report src --format csv --from 2023-11-14 --to now %s",
		 f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out, "\"10.1.0.1\",100,1,1\n"));
	snprintf(args, sizeof(args), "report src --from 2023-11-14T22:13:20.5Z %s", f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 2);
}

/* graph draws the range of --from and --to from files. */
static void
graph_folder_range(void **state)
{
	struct fixture *f = *state;
	char args[512];

	snprintf(args, sizeof(args), "graph --out %s/g.svg --from %lld --to %lld %s", f->dir,
		 (long long)T0_S, (long long)(T0_S + 3700), f->archive);
	run_flowsift(f, args);
	if (f->status != 0)
		fail_msg("flowsift %s exited with %d: %s", args, f->status, f->err);
	/* 10.1.0.3 was received after --to. */
	assert_non_null(strstr(f->err, "4 flows read, 3 matched, 1 outside the range, 3 drawn"));
}

/* Times that do not exist, or whose nanoseconds overflow, are usage errors, not empty ranges. */
static void
impossible_times_rejected(void **state)
{
	static const char *const times[] = {
		"9300000000", "2026-02-30", "2025-02-29", "2026-13-01", "-5124095576030431h",
		"-99999999999999999d",
	};
	struct fixture *f = *state;
	char args[512];

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		snprintf(args, sizeof(args), "report src --from %s %s", times[i], f->archive);
		run_flowsift(f, args);
		if (f->status != 2 || !strstr(f->err, "invalid time"))
			fail_msg("flowsift %s exited with %d: %s", args, f->status, f->err);
	}
	snprintf(args, sizeof(args), "report src --from 2024-02-29 --to 9223372036 %s", f->archive);
	run_flowsift(f, args);
	assert_int_equal(f->status, 0);
}

/*
 * A damaged archive file in a folder is reported, and the other files are
 * still read: report and print show their flows, graph draws them, and
 * each exits 1 so that a script detects the damage.
 */
static void
damaged_file_skipped_in_folder(void **state)
{
	struct fixture *f = *state;
	char args[1024], cut[128];
	struct fs_archive_file *files;
	size_t count;

	snprintf(cut, sizeof(cut), "%s/cut", f->dir);
	snprintf(args, sizeof(args), "cp -r '%s' '%s'", f->archive, cut);
	assert_int_equal(system(args), 0);
	assert_int_equal(fs_archive_list(cut, &files, &count, args, sizeof(args)), 0);
	assert_int_equal(count, 4);
	snprintf(args, sizeof(args), "truncate -s -20 '%s/%s'", cut, files[0].name);
	free(files);
	assert_int_equal(system(args), 0);

	snprintf(args, sizeof(args), "report src --format csv %s", cut);
	run_flowsift(f, args);
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->out, "\"10.1.0.2\",100,1,1\n"));
	assert_non_null(strstr(f->out, "\"10.1.0.4\",100,1,1\n"));
	assert_null(strstr(f->out, "10.1.0.1"));
	assert_non_null(strstr(f->err, "flowsift report: "));

	snprintf(args, sizeof(args), "print --format csv --no-header --fields src_addr %s", cut);
	run_flowsift(f, args);
	assert_int_equal(f->status, 1);
	assert_string_equal(f->out, "10.1.0.2\n10.1.0.3\n10.1.0.4\n");

	snprintf(args, sizeof(args), "graph --out %s/cut.svg --from %lld --to %lld %s", f->dir,
		 (long long)T0_S, (long long)(T0_S + 3700), cut);
	run_flowsift(f, args);
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->err, "3 flows read, 2 matched"));
	snprintf(args, sizeof(args), "%s/cut.svg", f->dir);
	assert_int_equal(access(args, F_OK), 0);

	/* A file named like an archive is read as one, so an empty one is damage too. */
	snprintf(args, sizeof(args), "touch %s/empty.avro", f->dir);
	assert_int_equal(system(args), 0);
	snprintf(args, sizeof(args), "report src %s/empty.avro", f->dir);
	run_flowsift(f, args);
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->err, "is not an Avro object container file"));
	snprintf(args, sizeof(args), "print %s/empty.avro", f->dir);
	run_flowsift(f, args);
	assert_int_equal(f->status, 1);
}

/* A range whose start is not before its end is a usage error in every command. */
static void
empty_range_rejected(void **state)
{
	static const char *const commands[] = {
		"print --topic flows.raw --from -15m --to -20m",
		"report src --topic flows.raw --from -15m --to -20m",
		"graph --topic flows.raw --from -15m --to -20m",
		"print --from 1700000000 --to 1700000000 /dev/null",
		"report src --from 1700000000 --to 1699999999 /dev/null",
		"graph --from 1700000000 --to 1699999999 /dev/null",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		run_flowsift(f, commands[i]);
		if (f->status != 2)
			fail_msg("flowsift %s exited with %d, not 2: %s", commands[i], f->status,
				 f->err);
		if (!strstr(f->err, "is not before --to"))
			fail_msg("flowsift %s printed: %s", commands[i], f->err);
		assert_string_equal(f->out, "");
	}
}

/* The live counters have no time range of their own, so --from without flows is an error. */
static void
live_rejects_range(void **state)
{
	struct fixture *f = *state;

	run_flowsift(f, "report src --from -5m");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "--from and --to select flows of FILE arguments or --topic"));
	run_flowsift(f, "graph --from -5m");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "--from and --to select flows of FILE arguments or --topic"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(print_folder_from),
		cmocka_unit_test(print_glob_from),
		cmocka_unit_test(print_files_to),
		cmocka_unit_test(report_folder_range),
		cmocka_unit_test(graph_folder_range),
		cmocka_unit_test(impossible_times_rejected),
		cmocka_unit_test(damaged_file_skipped_in_folder),
		cmocka_unit_test(empty_range_rejected),
		cmocka_unit_test(live_rejects_range),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
