/*
 * receive_pace.c - see receive_pace.h.
 */
#include "net/receive_pace.h"

#include "net/udp_receiver.h"

void
fs_receive_pace_init(struct fs_receive_pace *pace, int64_t max_wait_ns, int rcvbuf,
		     int64_t now_ns)
{
	*pace = (struct fs_receive_pace){ 0 };
	pace->last_read_ns = now_ns;
	pace->window_start_ns = now_ns;
	pace->max_wait_ns = max_wait_ns > 0 ? max_wait_ns : 0;
	if (rcvbuf > 0) {
		int64_t safe_ns = (int64_t)rcvbuf / 2 * 1000 / FS_RECEIVE_PACE_BUFFER_BYTES_PER_US;

		if (safe_ns < pace->max_wait_ns)
			pace->max_wait_ns = safe_ns;
	}
}

int64_t
fs_receive_pace_max_wait(const struct fs_receive_pace *pace)
{
	return pace->max_wait_ns;
}

int64_t
fs_receive_pace_after_read(struct fs_receive_pace *pace, int got, uint64_t kernel_drops,
			   int64_t now_ns)
{
	int64_t elapsed = now_ns - pace->last_read_ns;
	int64_t window = now_ns - pace->window_start_ns;
	double rate;
	int64_t wait_ns = pace->max_wait_ns;

	pace->last_read_ns = now_ns;
	if (got > 0)
		pace->window_datagrams += (uint64_t)got;
	if (window >= FS_RECEIVE_PACE_WINDOW_NS) {
		pace->window_rate = (double)pace->window_datagrams / (double)window;
		pace->window_start_ns = now_ns;
		pace->window_datagrams = 0;
	}
	if (kernel_drops != pace->drops_seen) {
		pace->drops_seen = kernel_drops;
		pace->awake_until_ns = now_ns + FS_RECEIVE_PACE_PAUSE_NS;
	}
	if (wait_ns == 0 || got <= 0 || got >= FS_UDP_BATCH || now_ns < pace->awake_until_ns)
		return 0;
	rate = pace->window_rate;
	if (elapsed > 0 && (double)got / (double)elapsed > rate)
		rate = (double)got / (double)elapsed;
	if (rate * (double)wait_ns < FS_RECEIVE_PACE_MIN_DATAGRAMS)
		return 0;
	if ((double)FS_RECEIVE_PACE_TARGET / rate < (double)wait_ns)
		wait_ns = (int64_t)((double)FS_RECEIVE_PACE_TARGET / rate);
	return wait_ns < FS_RECEIVE_PACE_MIN_NS ? 0 : wait_ns;
}
