/* ipfix_tcp.c - the IPFIX-over-TCP receive thread of flowsift-ingest. */
#include "ipfix_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_batch.h"
#include "avro/flow_codec.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/decoder.h"
#include "decode/ipfix_stream.h"
#include "metrics/http_server.h"

#define MAX_LISTENERS 8
#define READ_BUFFER 65536
#define POLL_INTERVAL_MS 200
/* Descriptors kept for the rest of ingest (sockets, Kafka, files); an estimate. */
#define FD_RESERVE 256

struct connection {
	int fd;
	struct fs_addr peer;
	uint16_t peer_port;
	int64_t last_read_ns; /* CLOCK_MONOTONIC time of the last byte read, or of accept */
	struct fs_ipfix_stream *stream;
};

struct ipfix_tcp {
	pthread_t thread;
	atomic_int stop;
	int listeners[MAX_LISTENERS];
	size_t nlisteners;
	struct connection *conns;   /* connections_max entries, nconns in use */
	struct pollfd *pfds;        /* MAX_LISTENERS + connections_max entries */
	size_t nconns;
	size_t connections_max;
	size_t per_address_max;
	int64_t idle_timeout_ns;    /* 0: connections never time out */
	const struct fs_cidr_list *allow;
	struct fs_decoder *decoder;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	const char *topic;
	struct ipfix_tcp_stats stats;
	pthread_mutex_t snapshot_lock;
	struct ipfix_tcp_stats snapshot; /* stats as of the last poll, for other threads */
	struct fs_ratelimit limit;          /* decode and produce errors */
	struct fs_ratelimit admission_limit; /* rejected connections and idle timeouts */
	struct fs_flow_batch batch;         /* flows of the bytes being read */
	uint8_t read_buffer[READ_BUFFER];
};

static int64_t
clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Queues the flows gathered in the batch as one message and empties it. */
static void
send_batch(struct ipfix_tcp *tcp)
{
	const uint8_t *key;
	size_t key_len;

	if (tcp->batch.count == 0)
		return;
	key = fs_flow_batch_key(&tcp->batch, &key_len);
	/* A full queue is counted by the producer itself (dropped_queue_full). */
	if (fs_producer_send_records(tcp->producer, tcp->topic, key, key_len, tcp->batch.buf,
				     tcp->batch.len, tcp->batch.count) == FS_ERR_SYSTEM) {
		tcp->stats.produce_errors += tcp->batch.count;
		fs_log_limited(&tcp->limit, FS_LOG_ERR, "ipfix-tcp",
			       "dropped %u flows: the Kafka producer rejected them",
			       (unsigned)tcp->batch.count);
	}
	fs_flow_batch_clear(&tcp->batch);
}

static void
produce_flow(const struct fs_flow *flow, void *opaque)
{
	struct ipfix_tcp *tcp = opaque;

	tcp->stats.flows++;
	if (!fs_flow_batch_fits(&tcp->batch, flow))
		send_batch(tcp);
	if (fs_flow_batch_add(&tcp->batch, tcp->codec, flow) < 0) {
		tcp->stats.encode_errors++;
		fs_log_limited(&tcp->limit, FS_LOG_ERR, "ipfix-tcp",
			       "dropped a flow: cannot encode it as Avro");
	}
}

static int
bind_listener(const char *text, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;
	char host[256];
	uint16_t port;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (fs_hostport_parse(text, host, sizeof(host), &port) < 0) {
		snprintf(err, err_len, "invalid TCP listen address '%s': expected host:port", text);
		return FS_ERR_INVALID;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		ss_len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		ss_len = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, err_len, "invalid TCP listen address '%s': the host must be an IP address", text);
		return FS_ERR_INVALID;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket for '%s' failed: %s", text, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, ss_len) < 0 || listen(fd, 64) < 0) {
		snprintf(err, err_len, "listening on TCP '%s' failed: %s", text, strerror(errno));
		close(fd);
		return FS_ERR_SYSTEM;
	}
	return fd;
}

/*
 * Closes connection i.  A message the close cut short is decoded before the
 * session's templates go, and counted truncated by the decoder.
 */
static void
close_connection(struct ipfix_tcp *tcp, size_t i)
{
	struct connection *conn = &tcp->conns[i];

	if (fs_ipfix_stream_finish(conn->stream, tcp->decoder, clock_ns(CLOCK_REALTIME),
				   produce_flow, tcp) > 0)
		send_batch(tcp);
	fs_decoder_end_session(tcp->decoder, &conn->peer, conn->peer_port, FS_FLOW_IPFIX);
	fs_ipfix_stream_free(conn->stream);
	close(conn->fd);
	tcp->stats.closed++;
	tcp->conns[i] = tcp->conns[--tcp->nconns];
}

/*
 * Stores the peer of ss in *addr and *port.  An IPv4-mapped IPv6 peer (a
 * listener on [::]) becomes IPv4, as for UDP, so that IPv4 prefixes of the
 * allowlist match it and its flows carry the IPv4 exporter address.
 */
static void
peer_from_sockaddr(const struct sockaddr_storage *ss, struct fs_addr *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		fs_addr_set_v4(addr, (const uint8_t *)&in->sin_addr);
		*port = ntohs(in->sin_port);
		return;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		fs_addr_set_v4(addr, in6->sin6_addr.s6_addr + 12);
	else
		fs_addr_set_v6(addr, in6->sin6_addr.s6_addr);
	*port = ntohs(in6->sin6_port);
}

static size_t
connections_from(const struct ipfix_tcp *tcp, const struct fs_addr *peer)
{
	size_t count = 0;

	for (size_t i = 0; i < tcp->nconns; i++) {
		if (fs_addr_equal(&tcp->conns[i].peer, peer))
			count++;
	}
	return count;
}

/*
 * Checks whether peer may open a connection.  Returns NULL if so, else
 * counts the rejection in its stats field and returns the reason.
 */
static const char *
rejection_reason(struct ipfix_tcp *tcp, const struct fs_addr *peer)
{
	if (tcp->allow->count > 0 && !fs_cidr_list_match(tcp->allow, peer)) {
		tcp->stats.rejected_not_allowed++;
		return "the address is not in ingest.exporters.allow";
	}
	if (tcp->nconns >= tcp->connections_max) {
		tcp->stats.rejected_limit++;
		return "ingest.tcp.connections.max connections are open";
	}
	if (connections_from(tcp, peer) >= tcp->per_address_max) {
		tcp->stats.rejected_per_address++;
		return "ingest.tcp.connections.per.address.max connections from this address are open";
	}
	return NULL;
}

static void
accept_connection(struct ipfix_tcp *tcp, int listener)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct connection *conn;
	struct fs_addr peer;
	uint16_t peer_port;
	const char *reason;
	char text[FS_ADDR_STRLEN];
	int fd = accept4(listener, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		/* A connection reset before accept, or a signal, is not a failure of the listener. */
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		/*
		 * NOTE: after EMFILE the connection stays queued and the listener
		 * readable, so the thread retries, and counts, on every loop until a
		 * descriptor frees up.
		 */
		tcp->stats.accept_errors++;
		fs_log_limited(&tcp->admission_limit, FS_LOG_ERR, "ipfix-tcp",
			       "accepting a TCP connection failed: %s (check the open-files limit "
			       "against ingest.tcp.connections.max)", strerror(errno));
		return;
	}
	memset(&peer, 0, sizeof(peer));
	peer_from_sockaddr(&ss, &peer, &peer_port);
	reason = rejection_reason(tcp, &peer);
	if (reason) {
		fs_log_limited(&tcp->admission_limit, FS_LOG_WARNING, "ipfix-tcp",
			       "rejected the connection from %s port %u: %s",
			       fs_addr_format(&peer, text), peer_port, reason);
		close(fd);
		return;
	}
	conn = &tcp->conns[tcp->nconns];
	memset(conn, 0, sizeof(*conn));
	conn->peer = peer;
	conn->peer_port = peer_port;
	conn->stream = fs_ipfix_stream_new(&conn->peer, conn->peer_port);
	if (!conn->stream) {
		tcp->stats.rejected_no_memory++;
		fs_log_limited(&tcp->admission_limit, FS_LOG_ERR, "ipfix-tcp",
			       "rejected the connection from %s port %u: out of memory for its stream buffer",
			       fs_addr_format(&peer, text), peer_port);
		close(fd);
		return;
	}
	conn->fd = fd;
	conn->last_read_ns = clock_ns(CLOCK_MONOTONIC);
	tcp->nconns++;
	tcp->stats.connections++;
}

/* Reads what a connection has; returns 0 to keep it, -1 to close it. */
static int
read_connection(struct ipfix_tcp *tcp, struct connection *conn)
{
	for (;;) {
		ssize_t n = read(conn->fd, tcp->read_buffer, sizeof(tcp->read_buffer));
		uint64_t before;
		int rc;

		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		conn->last_read_ns = clock_ns(CLOCK_MONOTONIC);
		before = fs_ipfix_stream_stats(conn->stream)->messages;
		rc = fs_ipfix_stream_feed(conn->stream, tcp->read_buffer, (size_t)n, tcp->decoder,
					  clock_ns(CLOCK_REALTIME), produce_flow, tcp);
		send_batch(tcp);
		if (rc == FS_ERR_INVALID && fs_ipfix_stream_stats(conn->stream)->framing_lost) {
			char peer[FS_ADDR_STRLEN];

			tcp->stats.framing_lost++;
			fs_log_limited(&tcp->limit, FS_LOG_WARNING, "ipfix-tcp",
				       "closing the connection from %s port %u: the stream is not IPFIX",
				       fs_addr_format(&conn->peer, peer), conn->peer_port);
			return -1;
		}
		tcp->stats.messages += fs_ipfix_stream_stats(conn->stream)->messages - before;
	}
}

static void
publish_snapshot(struct ipfix_tcp *tcp)
{
	tcp->stats.open = tcp->nconns;
	tcp->stats.decoder = *fs_decoder_stats(tcp->decoder);
	pthread_mutex_lock(&tcp->snapshot_lock);
	tcp->snapshot = tcp->stats;
	pthread_mutex_unlock(&tcp->snapshot_lock);
}

void
ipfix_tcp_stats(struct ipfix_tcp *tcp, struct ipfix_tcp_stats *out)
{
	pthread_mutex_lock(&tcp->snapshot_lock);
	*out = tcp->snapshot;
	pthread_mutex_unlock(&tcp->snapshot_lock);
}

/* Closes, from the last, every connection that has read nothing for idle_timeout_ns. */
static void
close_idle_connections(struct ipfix_tcp *tcp)
{
	int64_t now = clock_ns(CLOCK_MONOTONIC);

	if (tcp->idle_timeout_ns == 0)
		return;
	for (size_t i = tcp->nconns; i-- > 0;) {
		struct connection *conn = &tcp->conns[i];
		char peer[FS_ADDR_STRLEN];

		if (now - conn->last_read_ns < tcp->idle_timeout_ns)
			continue;
		tcp->stats.idle_timeouts++;
		fs_log_limited(&tcp->admission_limit, FS_LOG_INFO, "ipfix-tcp",
			       "closing the connection from %s port %u: no byte for %lld s "
			       "(ingest.tcp.idle.timeout)",
			       fs_addr_format(&conn->peer, peer), conn->peer_port,
			       (long long)(tcp->idle_timeout_ns / 1000000000));
		close_connection(tcp, i);
	}
}

static void *
run(void *arg)
{
	struct ipfix_tcp *tcp = arg;
	struct pollfd *pfds = tcp->pfds;

	while (!atomic_load(&tcp->stop)) {
		size_t n = 0;
		size_t nconns = tcp->nconns;

		for (size_t i = 0; i < tcp->nlisteners; i++)
			pfds[n++] = (struct pollfd){ .fd = tcp->listeners[i], .events = POLLIN };
		for (size_t i = 0; i < nconns; i++)
			pfds[n++] = (struct pollfd){ .fd = tcp->conns[i].fd, .events = POLLIN };
		publish_snapshot(tcp);
		if (poll(pfds, n, POLL_INTERVAL_MS) > 0) {
			/* Connections first, from the last, so closing one moves no unread entry. */
			for (size_t i = nconns; i-- > 0;) {
				if (pfds[tcp->nlisteners + i].revents &&
				    read_connection(tcp, &tcp->conns[i]) < 0)
					close_connection(tcp, i);
			}
			for (size_t i = 0; i < tcp->nlisteners; i++) {
				if (pfds[i].revents & POLLIN)
					accept_connection(tcp, tcp->listeners[i]);
			}
		}
		close_idle_connections(tcp);
	}
	return NULL;
}

/*
 * Raises the soft open-files limit, up to the hard limit, so that
 * connections_max connections fit next to the descriptors the rest of the
 * process uses (FD_RESERVE).  Logs a warning when the hard limit is lower.
 */
static void
raise_open_files_limit(size_t connections_max)
{
	rlim_t needed = (rlim_t)connections_max + FD_RESERVE;
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= needed)
		return;
	limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= needed ? needed
										   : limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
		getrlimit(RLIMIT_NOFILE, &limit);
	if (limit.rlim_cur < needed)
		fs_log(FS_LOG_WARNING, "ipfix-tcp",
		       "the open-files limit (%llu) is below ingest.tcp.connections.max plus %d: "
		       "connections beyond it fail at accept; raise the limit or lower the setting",
		       (unsigned long long)limit.rlim_cur, FD_RESERVE);
}

static void
release(struct ipfix_tcp *tcp)
{
	while (tcp->nconns)
		close_connection(tcp, tcp->nconns - 1);
	for (size_t i = 0; i < tcp->nlisteners; i++)
		close(tcp->listeners[i]);
	fs_flow_codec_free(tcp->codec);
	fs_decoder_free(tcp->decoder);
	free(tcp->conns);
	free(tcp->pfds);
	pthread_mutex_destroy(&tcp->snapshot_lock);
	free(tcp);
}

int
ipfix_tcp_start(struct ipfix_tcp **out, const char *listen, const struct fs_config *config,
		const struct fs_cidr_list *allow, const struct fs_decoder_limits *limits,
		struct fs_producer *producer, const char *topic, char *err, size_t err_len)
{
	struct ipfix_tcp *tcp = calloc(1, sizeof(*tcp));
	char *list = strdup(listen), *save = NULL;
	int rc = 0;

	*out = NULL;
	if (tcp)
		pthread_mutex_init(&tcp->snapshot_lock, NULL);
	if (!tcp || !list) {
		snprintf(err, err_len, "out of memory");
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	tcp->producer = producer;
	tcp->topic = topic;
	tcp->allow = allow;
	/* The key table bounds these: 1..65536 connections, 0..86400 s. */
	tcp->connections_max = (size_t)fs_config_int(config, "ingest.tcp.connections.max");
	tcp->per_address_max = (size_t)fs_config_int(config, "ingest.tcp.connections.per.address.max");
	tcp->idle_timeout_ns = fs_config_int(config, "ingest.tcp.idle.timeout") * 1000000000;
	tcp->limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	tcp->admission_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	fs_flow_batch_init(&tcp->batch, (uint32_t)fs_config_int(config, "kafka.message.flows.max"));
	raise_open_files_limit(tcp->connections_max);
	tcp->conns = calloc(tcp->connections_max, sizeof(*tcp->conns));
	tcp->pfds = calloc(MAX_LISTENERS + tcp->connections_max, sizeof(*tcp->pfds));
	if (!tcp->conns || !tcp->pfds) {
		snprintf(err, err_len, "out of memory for %zu TCP connections (ingest.tcp.connections.max)",
			 tcp->connections_max);
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	tcp->decoder = fs_decoder_new(limits);
	tcp->codec = fs_flow_codec_new(err, err_len);
	if (!tcp->decoder || !tcp->codec) {
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	for (char *item = strtok_r(list, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
		int fd;

		if (tcp->nlisteners == MAX_LISTENERS) {
			snprintf(err, err_len, "too many TCP listen addresses (at most %d)", MAX_LISTENERS);
			rc = FS_ERR_INVALID;
			goto out;
		}
		fd = bind_listener(item, err, err_len);
		if (fd < 0) {
			rc = fd;
			goto out;
		}
		tcp->listeners[tcp->nlisteners++] = fd;
	}
	if (pthread_create(&tcp->thread, NULL, run, tcp) != 0) {
		snprintf(err, err_len, "cannot start the IPFIX TCP thread");
		rc = FS_ERR_SYSTEM;
	}
out:
	free(list);
	if (rc < 0) {
		if (tcp)
			release(tcp);
		return rc;
	}
	*out = tcp;
	return 0;
}

void
ipfix_tcp_stop(struct ipfix_tcp *tcp)
{
	if (!tcp)
		return;
	atomic_store(&tcp->stop, 1);
	pthread_join(tcp->thread, NULL);
	fs_log(FS_LOG_INFO, "stats",
	       "ipfix_tcp_connections=%llu ipfix_tcp_rejected_not_allowed=%llu "
	       "ipfix_tcp_rejected_limit=%llu ipfix_tcp_rejected_per_address=%llu "
	       "ipfix_tcp_rejected_no_memory=%llu ipfix_tcp_accept_errors=%llu "
	       "ipfix_tcp_idle_timeouts=%llu "
	       "ipfix_tcp_framing_lost=%llu ipfix_tcp_messages=%llu ipfix_tcp_flows=%llu "
	       "ipfix_tcp_encode_errors=%llu ipfix_tcp_produce_errors=%llu",
	       (unsigned long long)tcp->stats.connections,
	       (unsigned long long)tcp->stats.rejected_not_allowed,
	       (unsigned long long)tcp->stats.rejected_limit,
	       (unsigned long long)tcp->stats.rejected_per_address,
	       (unsigned long long)tcp->stats.rejected_no_memory,
	       (unsigned long long)tcp->stats.accept_errors,
	       (unsigned long long)tcp->stats.idle_timeouts,
	       (unsigned long long)tcp->stats.framing_lost, (unsigned long long)tcp->stats.messages,
	       (unsigned long long)tcp->stats.flows, (unsigned long long)tcp->stats.encode_errors,
	       (unsigned long long)tcp->stats.produce_errors);
	release(tcp);
}
