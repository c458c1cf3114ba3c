/*
 * send.c - `flowsift-bench send`: replays the datagrams of captures over UDP
 * to 127.0.0.1:PORT at a set flow rate.
 *
 * Each distinct exporter of the capture (source address and port) gets its
 * own loopback source address, set per datagram with IP_PKTINFO on one
 * socket, so a collector sees as many exporters as the capture has without
 * one socket per exporter.  Exporters already in 127.0.0.0/8 (the captures
 * of `flowsift-bench gen`) keep their address; others are numbered from
 * 127.2.0.1.  Every datagram leaves from one ephemeral source port.
 *
 * Pacing follows the flow count of each datagram (counted by decoding the
 * capture once at load), so --rate is in flows per second whatever the
 * records per datagram.  Datagrams leave in bursts of up to 64 through
 * sendmmsg(2), each burst at most about 0.5 ms of traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SEND_MAX_BATCH 64
#define SEND_MAX_EXPORTERS (1u << 20)
#define SEND_HASH_SIZE (1u << 21)   /* twice SEND_MAX_EXPORTERS */

struct send_options {
	uint64_t rate;       /* flows per second, 0: as fast as possible */
	uint64_t duration_ms;
	uint64_t loops;
	uint64_t port;
	char **files;
	int nfiles;
};

struct send_slot {
	struct fs_addr addr;
	uint16_t port;
	uint32_t local;      /* assigned source address, host order; 0: slot free */
};

/* Assigns each datagram its loopback source address; returns 0 or -1. */
static int
send_map_sources(const struct bench_datagram_set *set, uint32_t *sources)
{
	struct send_slot *slots = calloc(SEND_HASH_SIZE, sizeof(*slots));
	uint32_t next = 0x7f020001u;
	uint32_t exporters = 0;

	if (!slots) {
		fprintf(stderr, "flowsift-bench send: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < set->count; i++) {
		const struct bench_datagram *d = &set->items[i];
		uint32_t h = 2166136261u;
		struct send_slot *s;

		for (size_t k = 0; k < sizeof(d->exporter.bytes); k++)
			h = (h ^ d->exporter.bytes[k]) * 16777619u;
		h = (h ^ d->exporter_port) * 16777619u;
		for (s = &slots[h & (SEND_HASH_SIZE - 1)]; s->local != 0;
		     s = &slots[(size_t)(s - slots + 1) & (SEND_HASH_SIZE - 1)])
			if (s->port == d->exporter_port &&
			    memcmp(&s->addr, &d->exporter, sizeof(s->addr)) == 0)
				break;
		if (s->local == 0) {
			if (++exporters > SEND_MAX_EXPORTERS) {
				fprintf(stderr, "flowsift-bench send: more than %u exporters in the "
					"capture\n", SEND_MAX_EXPORTERS);
				free(slots);
				return -1;
			}
			s->addr = d->exporter;
			s->port = d->exporter_port;
			if (d->exporter.family == 4 && d->exporter.bytes[0] == 127)
				s->local = (uint32_t)d->exporter.bytes[0] << 24 |
					   (uint32_t)d->exporter.bytes[1] << 16 |
					   (uint32_t)d->exporter.bytes[2] << 8 | d->exporter.bytes[3];
			else
				s->local = next++;
		}
		sources[i] = s->local;
	}
	free(slots);
	return 0;
}

static void
send_usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-bench send [--rate FLOWS_PER_S] [--duration S] [--loops N]\n"
		"                           [--port P] FILE...\n"
		"\n"
		"Replays the UDP datagrams of the captures to 127.0.0.1:P (default 2055), each\n"
		"exporter from its own loopback source address, then prints what it sent as one\n"
		"line of key=value pairs.\n"
		"\n"
		"  --rate N      flows per second, paced by each datagram's records (default 0:\n"
		"                as fast as possible); k and m suffixes allowed\n"
		"  --duration S  stop after S seconds (decimals allowed; default: no limit)\n"
		"  --loops N     replay the captures N times (default 1; 0: until --duration)\n");
}

static int
send_parse_seconds(const char *text, uint64_t *ms)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !(s >= 0) || s > 86400) {
		fprintf(stderr, "flowsift-bench send: --duration '%s' is not a number of seconds "
			"from 0 to 86400\n", text);
		return -1;
	}
	*ms = (uint64_t)(s * 1000);
	return 0;
}

static int
send_parse(int argc, char **argv, struct send_options *o)
{
	static const struct option longopts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "loops", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->loops = 1;
	o->port = 2055;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'r': rc = bench_parse_count("--rate", optarg, 1000000000, &o->rate); break;
		case 'd': rc = send_parse_seconds(optarg, &o->duration_ms); break;
		case 'l': rc = bench_parse_count("--loops", optarg, 1000000000, &o->loops); break;
		case 'p': rc = bench_parse_count("--port", optarg, 65535, &o->port); break;
		case 'h': send_usage(stdout); exit(0);
		default: send_usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind >= argc || o->port == 0) {
		fprintf(stderr, "flowsift-bench send: give a capture file and a --port from 1 to 65535\n");
		send_usage(stderr);
		return -1;
	}
	if (o->loops == 0 && o->duration_ms == 0) {
		fprintf(stderr, "flowsift-bench send: --loops 0 needs a --duration\n");
		return -1;
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return 0;
}

static void
sleep_until(int64_t target_ns)
{
	int64_t now = bench_now_ns();

	if (target_ns - now > 50000) {
		struct timespec ts = {
			.tv_sec = (target_ns - now) / 1000000000,
			.tv_nsec = (target_ns - now) % 1000000000,
		};
		nanosleep(&ts, NULL);
	}
	while (bench_now_ns() < target_ns)
		;
}

struct send_state {
	int fd;
	struct sockaddr_in dst;
	struct mmsghdr msgs[SEND_MAX_BATCH];
	struct iovec iov[SEND_MAX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} control[SEND_MAX_BATCH];
	uint64_t datagrams, flows, packets, errors;
};

/* Sends items[first..first+n) of set; counts what left and what failed. */
static void
send_batch(struct send_state *st, const struct bench_datagram_set *set,
	   const uint32_t *sources, size_t first, unsigned n)
{
	unsigned done = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct bench_datagram *d = &set->items[first + i];
		struct msghdr *m = &st->msgs[i].msg_hdr;
		struct cmsghdr *cm;
		struct in_pktinfo info;

		st->iov[i].iov_base = (void *)bench_datagram_data(set, d);
		st->iov[i].iov_len = d->len;
		memset(m, 0, sizeof(*m));
		m->msg_name = &st->dst;
		m->msg_namelen = sizeof(st->dst);
		m->msg_iov = &st->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = st->control[i].buf;
		m->msg_controllen = sizeof(st->control[i].buf);
		cm = CMSG_FIRSTHDR(m);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(info));
		memset(&info, 0, sizeof(info));
		info.ipi_spec_dst.s_addr = htonl(sources[first + i]);
		memcpy(CMSG_DATA(cm), &info, sizeof(info));
	}
	while (done < n) {
		int r = sendmmsg(st->fd, st->msgs + done, n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Skips the datagram that failed, such as ENOBUFS, and goes on. */
			st->errors++;
			done++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			const struct bench_datagram *d = &set->items[first + done + (unsigned)i];

			st->datagrams++;
			st->flows += d->flows;
			st->packets += d->packets;
		}
		done += (unsigned)r;
	}
}

static int
send_run(const struct send_options *o, const struct bench_datagram_set *set,
	 const uint32_t *sources)
{
	struct send_state *st = calloc(1, sizeof(*st));
	double per_datagram = (double)set->flows / (double)set->count;
	unsigned batch = SEND_MAX_BATCH;
	int64_t start, deadline, elapsed;
	uint64_t loop = 0;
	size_t i = 0;
	int sndbuf = 4 << 20;

	if (!st) {
		fprintf(stderr, "flowsift-bench send: out of memory\n");
		return 1;
	}
	st->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (st->fd < 0) {
		fprintf(stderr, "flowsift-bench send: socket: %s\n", strerror(errno));
		free(st);
		return 1;
	}
	setsockopt(st->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	st->dst.sin_family = AF_INET;
	st->dst.sin_port = htons((uint16_t)o->port);
	st->dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (o->rate > 0 && per_datagram > 0) {
		double per_burst = (double)o->rate / per_datagram / 2000.0;

		if (per_burst < 1)
			batch = 1;
		else if (per_burst > SEND_MAX_BATCH)
			batch = SEND_MAX_BATCH;
		else
			batch = (unsigned)per_burst;
	}
	start = bench_now_ns();
	deadline = o->duration_ms ? start + (int64_t)o->duration_ms * 1000000 : INT64_MAX;
	for (;;) {
		unsigned n = batch;

		if (i == set->count) {
			i = 0;
			if (o->loops && ++loop >= o->loops)
				break;
		}
		if (n > set->count - i)
			n = (unsigned)(set->count - i);
		if (o->rate > 0)
			sleep_until(start + (int64_t)((double)st->flows * 1e9 / (double)o->rate));
		if (bench_now_ns() >= deadline)
			break;
		send_batch(st, set, sources, i, n);
		i += n;
	}
	elapsed = bench_now_ns() - start;
	printf("sent datagrams=%" PRIu64 " flows=%" PRIu64 " packets=%" PRIu64
	       " seconds=%.3f flow_rate=%.0f send_errors=%" PRIu64 "\n",
	       st->datagrams, st->flows, st->packets, (double)elapsed / 1e9,
	       (double)st->flows * 1e9 / (double)(elapsed > 0 ? elapsed : 1), st->errors);
	close(st->fd);
	free(st);
	return 0;
}

int
bench_send_main(int argc, char **argv)
{
	struct send_options o;
	struct bench_datagram_set set;
	uint32_t *sources = NULL;
	int rc = 1;

	if (send_parse(argc, argv, &o) < 0)
		return 2;
	memset(&set, 0, sizeof(set));
	if (bench_datagram_set_load(&set, o.files, o.nfiles) < 0)
		goto out;
	sources = calloc(set.count, sizeof(*sources));
	if (!sources) {
		fprintf(stderr, "flowsift-bench send: out of memory\n");
		goto out;
	}
	if (send_map_sources(&set, sources) < 0)
		goto out;
	rc = send_run(&o, &set, sources);
out:
	free(sources);
	bench_datagram_set_release(&set);
	return rc;
}
