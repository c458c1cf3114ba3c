/*
 * test_receive_pace.c - the sleep of a receive thread after a read
 * (net/receive_pace.h), driven by a simulated clock.  The cases: steady
 * senders at several rates, bursts, full batches, kernel drops and the cut to
 * the socket buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/receive_pace.h"
#include "net/udp_receiver.h"

#define MS 1000000LL
#define BIG_RCVBUF (64 * 1024 * 1024)

/* A simulated receive thread that reads, then sleeps as long as the pace returns. */
struct sim {
	struct fs_receive_pace pace;
	int64_t now;
	double pending;      /* datagrams in the socket */
	uint64_t drops;
	int64_t slept_ns;    /* total sleep */
	int reads;
	int64_t last_wait;
};

static void
sim_init(struct sim *s, int64_t max_wait_ns, int rcvbuf)
{
	*s = (struct sim){ .now = 1000 * MS };
	fs_receive_pace_init(&s->pace, max_wait_ns, rcvbuf, s->now);
}

/*
 * Runs for duration_ns with datagrams arriving at rate per second.  Each
 * read returns what is pending, at most a batch; without a sleep the thread
 * waits for the next datagram, as poll(2) would.
 */
static void
sim_run(struct sim *s, double rate, int64_t duration_ns)
{
	int64_t end = s->now + duration_ns;
	double per_ns = rate / 1e9;

	while (s->now < end) {
		int got;

		if (s->pending < 1) {
			int64_t gap = (int64_t)((1 - s->pending) / per_ns) + 1;

			s->now += gap;
			s->pending += (double)gap * per_ns;
		}
		got = s->pending >= FS_UDP_BATCH ? FS_UDP_BATCH : (int)s->pending;
		s->pending -= got;
		s->reads++;
		s->last_wait = fs_receive_pace_after_read(&s->pace, got, s->drops, s->now);
		s->slept_ns += s->last_wait;
		s->now += s->last_wait;
		s->pending += (double)s->last_wait * per_ns;
	}
}

static void
slow_sender_sleeps_maximum(void **state)
{
	struct sim s;

	(void)state;
	/* 1,667 datagrams a second: NetFlow v9 of 30 flows at 50,000 flows/s. */
	sim_init(&s, 10 * MS, BIG_RCVBUF);
	sim_run(&s, 1667, 2000 * MS);
	assert_int_equal(s.last_wait, 10 * MS);
	/* About 100 reads a second instead of one per datagram. */
	assert_in_range(s.reads, 150, 260);
}

static void
sleep_follows_the_rate(void **state)
{
	struct sim s;

	(void)state;
	/* 10,000 datagrams a second: 32 of them take 3.2 ms. */
	sim_init(&s, 10 * MS, BIG_RCVBUF);
	sim_run(&s, 10000, 1000 * MS);
	assert_in_range(s.last_wait, 2800000, 3600000);
}

static void
fast_sender_gets_no_sleep(void **state)
{
	struct sim s;

	(void)state;
	/* 66,000 datagrams a second: 32 of them take under 1 ms. */
	sim_init(&s, 10 * MS, BIG_RCVBUF);
	sim_run(&s, 66000, 1000 * MS);
	assert_int_equal(s.last_wait, 0);
	/* Only the reads before the first full window slept. */
	assert_true(s.slept_ns < 40 * MS);
}

static void
full_batch_gets_no_sleep(void **state)
{
	struct fs_receive_pace pace;
	int64_t now = 1000 * MS;

	(void)state;
	fs_receive_pace_init(&pace, 10 * MS, BIG_RCVBUF, now);
	/* 50 datagrams in 100 ms: 5 in a sleep of 10 ms. */
	assert_int_equal(fs_receive_pace_after_read(&pace, 50, 0, now + 100 * MS), 10 * MS);
	assert_int_equal(fs_receive_pace_after_read(&pace, FS_UDP_BATCH, 0, now + 200 * MS), 0);
	assert_int_equal(fs_receive_pace_after_read(&pace, 0, 0, now + 300 * MS), 0);
}

static void
burst_in_window_keeps_thread_awake(void **state)
{
	struct fs_receive_pace pace;
	int64_t now = 1000 * MS;

	(void)state;
	fs_receive_pace_init(&pace, 10 * MS, BIG_RCVBUF, now);
	/* A window of 10 ms with 992 datagrams in it, read in nearly full batches. */
	for (int i = 0; i < 16; i++) {
		now += MS * 10 / 16;
		fs_receive_pace_after_read(&pace, FS_UDP_BATCH - 2, 0, now);
	}
	/* A gap between bursts: the last read alone looks slow, the window does not. */
	now += 5 * MS;
	assert_int_equal(fs_receive_pace_after_read(&pace, 1, 0, now), 0);
}

static void
kernel_drops_pause_sleeping(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 10 * MS, BIG_RCVBUF);
	sim_run(&s, 1667, 500 * MS);
	assert_int_equal(s.last_wait, 10 * MS);
	s.drops = 5;
	sim_run(&s, 1667, 900 * MS);
	assert_int_equal(s.last_wait, 0);
	/* A second after the drop the thread sleeps again. */
	sim_run(&s, 1667, 200 * MS);
	assert_int_equal(s.last_wait, 10 * MS);
}

static void
socket_buffer_cuts_the_sleep(void **state)
{
	struct fs_receive_pace pace;

	(void)state;
	/* 4 MiB: half of it fills in 8.39 ms at 250 bytes per microsecond. */
	fs_receive_pace_init(&pace, 10 * MS, 4 * 1024 * 1024, 0);
	assert_int_equal(fs_receive_pace_max_wait(&pace), 8388608);
	/*
	 * Linux's default net.core.rmem_max of 212,992 bytes, which the kernel
	 * reports doubled: 0.85 ms, under the shortest sleep.
	 */
	fs_receive_pace_init(&pace, 10 * MS, 425984, 0);
	assert_int_equal(fs_receive_pace_max_wait(&pace), 851968);
	/* Unknown buffer: no cut. */
	fs_receive_pace_init(&pace, 10 * MS, 0, 0);
	assert_int_equal(fs_receive_pace_max_wait(&pace), 10 * MS);
}

static void
default_buffer_gets_no_sleep(void **state)
{
	struct sim s;

	(void)state;
	/* The sender of slow_sender_sleeps_maximum, 0.85 ms of buffer. */
	sim_init(&s, 10 * MS, 425984);
	sim_run(&s, 1667, 1000 * MS);
	assert_int_equal(s.slept_ns, 0);
}

static void
trickle_gets_no_sleep(void **state)
{
	struct sim s;

	(void)state;
	/* 300 datagrams a second: 3 in a sleep of 10 ms, under the 4 worth a sleep. */
	sim_init(&s, 10 * MS, BIG_RCVBUF);
	sim_run(&s, 300, 2000 * MS);
	assert_int_equal(s.last_wait, 0);
	/* Only reads before the first full window may sleep. */
	assert_true(s.slept_ns < 40 * MS);
	/* 500 a second: 5 in 10 ms. */
	sim_run(&s, 500, 1000 * MS);
	assert_int_equal(s.last_wait, 10 * MS);
}

static void
zero_turns_sleeping_off(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0, BIG_RCVBUF);
	sim_run(&s, 100, 1000 * MS);
	assert_int_equal(s.slept_ns, 0);
	assert_int_equal(fs_receive_pace_max_wait(&s.pace), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slow_sender_sleeps_maximum),
		cmocka_unit_test(sleep_follows_the_rate),
		cmocka_unit_test(fast_sender_gets_no_sleep),
		cmocka_unit_test(full_batch_gets_no_sleep),
		cmocka_unit_test(burst_in_window_keeps_thread_awake),
		cmocka_unit_test(kernel_drops_pause_sleeping),
		cmocka_unit_test(socket_buffer_cuts_the_sleep),
		cmocka_unit_test(default_buffer_gets_no_sleep),
		cmocka_unit_test(trickle_gets_no_sleep),
		cmocka_unit_test(zero_turns_sleeping_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
