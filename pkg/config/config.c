/*
 * config.c - the key table, the file parser and environment overrides.
 *
 * The table below is the single list of settings: validation, defaults and
 * docs/CONFIGURATION.md all come from it.
 */
#include "config/config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error_text.h"
#include "core/log.h"
#include "core/regular_file.h"
#include "core/result.h"

extern char **environ;

/*
 * KEY_TOPIC is a Kafka topic name: at most 249 characters of A-Z, a-z, 0-9,
 * '.', '_' and '-'; min 1 means it may not be empty.
 */
enum key_type { KEY_STRING, KEY_INT, KEY_TOPIC };

struct key_def {
	const char *name;
	enum key_type type;
	int64_t min;
	int64_t max;
	const char *default_value;
	const char *doc;
};

static const struct key_def key_table[] = {
	{ "run.dir", KEY_STRING, 0, 0, "run",
	  "Folder for the state of `make run`: the embedded broker's address file, the Redis URL file, logs." },
	{ "log.level", KEY_STRING, 0, 0, "info",
	  "Lowest severity logged: error, warning, notice, info or debug." },
	{ "log.format", KEY_STRING, 0, 0, "logfmt",
	  "Log line format on stderr: logfmt (key=value pairs) or json (one JSON object per line)." },
	{ "kafka.bootstrap.servers", KEY_STRING, 0, 0, "",
	  "Kafka bootstrap servers (host:port,...). Empty: use the embedded broker whose address is in <run.dir>/broker.addr." },
	{ "kafka.topic.raw", KEY_TOPIC, 1, 0, "flows.raw",
	  "Topic for decoded flows from flowsift-ingest." },
	{ "kafka.queue.max.messages", KEY_INT, 1000, 10000000, "200000",
	  "Producer queue bound in messages (each contains up to kafka.message.flows.max flows), besides librdkafka's queue.buffering.max.kbytes, 65536 by default; flows that find the queue full are dropped and counted." },
	{ "kafka.message.flows.max", KEY_INT, 1, 512, "128",
	  "Flows per Kafka message that flowsift-ingest, flowsift-enrich and flowsift-filter write to flow topics. A message contains flows of one exporter, encoded back to back, and never spans two export datagrams or input messages, so it waits for no later traffic. 1: one flow per message, for consumers outside flowsift that read only the first flow of a message." },
	{ "redis.url", KEY_STRING, 0, 0, "",
	  "Redis URL (redis://[user:password@]host:port[/db] or unix:///path). Empty: use the URL in <run.dir>/redis.url." },
	{ "redis.password", KEY_STRING, 0, 0, "",
	  "Password for Redis AUTH; when set it replaces any password in redis.url. Best set from a file through FLOWSIFT_REDIS_PASSWORD_FILE. Never printed or logged." },
	{ "ingest.listen.tcp", KEY_STRING, 0, 0, "127.0.0.1:4739",
	  "TCP addresses to receive IPFIX over TCP on (RFC 7011 section 10.4), comma-separated host:port; empty turns TCP off." },
	{ "ingest.tcp.connections.max", KEY_INT, 1, 65536, "256",
	  "IPFIX-over-TCP connections open at once; a further connection is rejected at accept and counted. Each open connection holds a 64 KiB stream buffer and a file descriptor, so the process's open-files limit must allow this many more." },
	{ "ingest.tcp.connections.per.address.max", KEY_INT, 1, 65536, "16",
	  "IPFIX-over-TCP connections open at once from one source address, so that one host cannot take all of ingest.tcp.connections.max; a further connection from it is rejected at accept and counted." },
	{ "ingest.tcp.idle.timeout", KEY_INT, 0, 86400, "1800",
	  "Seconds an IPFIX-over-TCP connection may stay without sending a byte before flowsift-ingest closes it (counted). RFC 7011 requires periodic template retransmission over UDP only (section 8), and an exporter reconnects at most once a minute by default (section 10.4.4), so a quiet exporter may send nothing for long and a short timeout costs it a reconnect and its templates again. 0: never close idle connections." },
	{ "kafka.topic.counters", KEY_TOPIC, 1, 0, "flows.counters",
	  "Topic for sFlow counter samples from flowsift-ingest (schemas/counters.avsc)." },
	{ "ingest.listen", KEY_STRING, 0, 0, "127.0.0.1:2055,127.0.0.1:4739,127.0.0.1:6343",
	  "UDP addresses to receive export datagrams on, comma-separated host:port ([v6addr]:port for IPv6). Every port accepts every protocol." },
	{ "ingest.socket.rcvbuf", KEY_INT, 65536, 1073741824, "8388608",
	  "Receive buffer size requested for each UDP socket, in bytes." },
	{ "ingest.receive.wait.us", KEY_INT, 0, 100000, "10000",
	  "Longest sleep, in microseconds, of a receive thread after a read that emptied the socket. The thread sleeps until about 32 more datagrams should have arrived at the recent rate, at most this long, and skips sleeps under 1 ms or with fewer than 4 datagrams expected, so it sleeps only from about 400 (with the default) to 32,000 datagrams a second. It then wakes once per several datagrams instead of once per datagram, and each wake-up costs microseconds of CPU. A flow reaches Kafka at most this much later. The sleep is also cut to the time a burst at 1 Gbit/s takes to fill half the socket buffer (ingest.socket.rcvbuf as the kernel grants it; with the default net.core.rmem_max that is under 1 ms, so the thread never sleeps), and for 1 s after the kernel drops datagrams on the socket. A burst faster than 1 Gbit/s that starts during a sleep fills the buffer sooner: in bursts too large for the buffer, a tester measured about twice the kernel drops with 10 ms as with 0. Values from 1 to 999 never sleep. 0: never sleep." },
	{ "ingest.stats.interval", KEY_INT, 0, 86400, "60",
	  "Seconds between counter summaries in the ingest log; 0 turns them off." },
	{ "ingest.stats.exporters.max", KEY_INT, 0, 100000, "20",
	  "Maximum exporter lines per ingest.stats.interval in the ingest log, one per exporter and domain whose sequence gaps grew, largest new loss first. One more line counts the exporters left out." },
	{ "ingest.metrics.listen", KEY_STRING, 0, 0, "127.0.0.1:9101",
	  "TCP address (host:port) where flowsift-ingest serves /metrics, /healthz and /readyz. Empty: no metrics server." },
	{ "ingest.metrics.exporters.max", KEY_INT, 0, 100000, "100",
	  "Exporter, observation domain and protocol label sets with per-exporter series of their own on /metrics, in the order first seen; later ones are summed into exporter=\"other\"." },
	{ "ingest.exporters.allow", KEY_STRING, 0, 0, "",
	  "Exporters allowed to send, as comma-separated CIDR prefixes (192.0.2.0/24,2001:db8::/32) or addresses. Datagrams from other sources are counted and dropped, and their IPFIX-over-TCP connections are rejected and counted. Empty: accept every source." },
	{ "ingest.shutdown.timeout.ms", KEY_INT, 100, 600000, "10000",
	  "On SIGTERM or SIGINT, how long flowsift-ingest waits for the broker to acknowledge queued flows before it counts the rest as lost and exits, in milliseconds." },
	{ "ingest.threads", KEY_INT, 0, 64, "1",
	  "UDP receive threads of flowsift-ingest; each has its own socket on every ingest.listen port (SO_REUSEPORT), decoder and template cache, and every datagram of one exporter address goes to the same thread. 0: one per online CPU." },
	{ "ingest.session.key", KEY_STRING, 0, 0, "address_port",
	  "What identifies a NetFlow v9 or IPFIX exporter over UDP for templates and sequence numbers: address_port (address and source port, the transport session of RFC 7011) or address (the source address, whatever the source port: for exporters that change source port, or replicas behind a load balancer that rewrites it)." },
	{ "kafka.topic.templates", KEY_TOPIC, 0, 0, "flows.templates",
	  "Topic where flowsift-ingest replicas share the NetFlow v9 and IPFIX templates they learn, so a restarted or added replica decodes at once; meant to be compacted on a real cluster (cleanup.policy=compact). Empty: templates are not shared." },
	{ "ingest.templates.load.max.records", KEY_INT, 1, 100000000, "1000000",
	  "At start, flowsift-ingest reads at most this many records of kafka.topic.templates before it reads its sockets; the rest is read in the background." },
	{ "ingest.templates.load.max.bytes", KEY_INT, 1, 4294967295, "268435456",
	  "At start, flowsift-ingest reads at most this many bytes of kafka.topic.templates (keys and values) before it reads its sockets; the rest is read in the background." },
	{ "ingest.templates.load.timeout.ms", KEY_INT, 0, 600000, "30000",
	  "At start, flowsift-ingest reads kafka.topic.templates for at most this long, in milliseconds, before it reads its sockets; the rest is read in the background." },
	{ "decode.templates.max", KEY_INT, 1, 16777216, "65536",
	  "Templates (NetFlow v9 and IPFIX) kept for all exporters together; the one learned or refreshed longest ago is evicted first. Used by flowsift-ingest and flowsift decode." },
	{ "decode.templates.per.exporter.max", KEY_INT, 1, 65536, "1024",
	  "Templates kept per exporter address, counted over all its ports and observation domains; a new one evicts that address's oldest, so a flood from one address cannot push out another address's templates." },
	{ "decode.templates.bytes.max", KEY_INT, 65536, 4294967295, "67108864",
	  "Memory, in bytes, that all cached templates may take together; the oldest are evicted to stay within it." },
	{ "decode.template.fields.max", KEY_INT, 1, 65535, "512",
	  "Fields one template may have; a longer template is rejected and counted in templates_rejected." },
	{ "decode.exporters.max", KEY_INT, 1, 16777216, "4096",
	  "Exporter and domain pairs with their own packet, record and sequence counters; datagrams from others are counted in exporters_untracked." },
	{ "decode.options.entries.max", KEY_INT, 1, 16777216, "16384",
	  "Sampling rates and boot times from options data remembered, per exporter, domain and sampler id; the one set longest ago is evicted first." },
	{ "decode.held.sets.max", KEY_INT, 1, 1048576, "1024",
	  "Data sets held, for all exporters together, until their template arrives; the oldest is dropped first." },
	{ "decode.held.bytes.max", KEY_INT, 1, 4294967295, "1048576",
	  "Bytes of data sets held, for all exporters together, until their template arrives." },
	{ "decode.held.sets.per.exporter.max", KEY_INT, 1, 1048576, "64",
	  "Data sets held per exporter address, over all its ports and domains, until their template arrives." },
	{ "decode.held.bytes.per.exporter.max", KEY_INT, 1, 4294967295, "131072",
	  "Bytes of data sets held per exporter address, over all its ports and domains, until their template arrives." },
	{ "decode.held.age.max", KEY_INT, 1, 86400, "1800",
	  "Seconds a data set stays held after its datagram arrived; an older one is dropped instead of decoded when its template comes." },
	{ "decode.sflow.samples.max", KEY_INT, 1, 65536, "256",
	  "sFlow samples decoded per datagram; the rest of the datagram is dropped and counted invalid." },
	{ "decode.sflow.records.max", KEY_INT, 1, 65536, "256",
	  "sFlow flow or counter records decoded per sample; the rest are counted in sflow_records_dropped." },
	{ "decode.sflow.header.bytes.max", KEY_INT, 14, 65535, "512",
	  "Bytes of a sampled packet header (sFlow raw header, IPFIX dataLinkFrameSection) parsed for addresses and ports." },
	{ "decode.enterprise.elements.max", KEY_INT, 0, 32, "32",
	  "Elements without a flow field of their own (IPFIX enterprise elements, NetFlow v9 field types of 32768 or more) kept per flow as raw values in enterprise_elements; the rest, and values past 512 bytes per flow, are counted in enterprise_elements_dropped. 0 keeps none." },
	{ "decode.sflow.sources.max", KEY_INT, 1, 16777216, "65536",
	  "sFlow data sources (per exporter, agent, source id and sample kind) whose flow or counter sample sequence numbers are checked for gaps; samples of further sources are counted in sflow_sources_untracked." },
	{ "decode.decap.srv6", KEY_INT, 0, 1, "0",
	  "1: take addresses, ports and length from the inner packet of a sampled IPv6 packet whose next header is IPv4 or IPv6 (SRv6 encapsulation without a segment routing header). 0: report the outer IPv6 header. A packet with a segment routing header is decapsulated either way." },
	{ "kafka.topic.enriched", KEY_TOPIC, 1, 0, "flows.enriched",
	  "Topic for enriched flows from flowsift-enrich." },
	{ "enrich.group.id", KEY_STRING, 0, 0, "flowsift-enrich",
	  "Kafka consumer group of flowsift-enrich, which consumes kafka.topic.raw." },
	{ "enrich.geoip.city", KEY_STRING, 0, 0, "",
	  "MaxMind DB file (GeoLite2-City, GeoLite2-Country, DB-IP or IPinfo format) for the country and city of each address. Empty: no countries or cities." },
	{ "enrich.geoip.asn", KEY_STRING, 0, 0, "",
	  "MaxMind DB file (GeoLite2-ASN format) for the AS number and organisation of each address. Empty: no AS lookups." },
	{ "enrich.as.prefer", KEY_STRING, 0, 0, "exporter",
	  "Which AS number wins when the exporter sent one and the ASN database has one: exporter (the database only fills missing or 0 numbers) or geoip." },
	{ "enrich.interfaces.map", KEY_STRING, 0, 0, "",
	  "Interface map file: exporter names and sites, interface names, descriptions and speeds (docs/enrich.md). Wins over SNMP. Reloaded when it changes and on SIGHUP." },
	{ "enrich.snmp.community", KEY_STRING, 0, 0, "",
	  "SNMPv2c community for polling the ifTable and ifXTable of every exporter. Empty: no SNMP polling." },
	{ "enrich.snmp.port", KEY_INT, 1, 65535, "161",
	  "UDP port of the exporters' SNMP agents." },
	{ "enrich.snmp.refresh", KEY_INT, 10, 604800, "3600",
	  "Seconds between SNMP polls of one exporter; a failed poll keeps the last names and is retried after the same period." },
	{ "enrich.snmp.timeout.ms", KEY_INT, 10, 60000, "2000",
	  "Timeout of one SNMP request, in milliseconds (one retry follows)." },
	{ "enrich.prefixes", KEY_STRING, 0, 0, "",
	  "Prefix list file: IPv4 and IPv6 prefixes with key=value tags, matched by longest prefix (docs/enrich.md). Reloaded when it changes and on SIGHUP." },
	{ "enrich.home.networks", KEY_STRING, 0, 0, "",
	  "Your own networks as comma-separated prefixes (10.0.0.0/8,2001:db8::/32); each flow gets traffic_direction inbound, outbound, internal or external. Empty: no traffic_direction." },
	{ "enrich.sampling.override", KEY_STRING, 0, 0, "",
	  "Sampling rate per exporter that replaces the exported one, as comma-separated ADDRESS=RATE (10.0.0.1=1000,2001:db8::1=512)." },
	{ "enrich.services", KEY_STRING, 0, 0, "",
	  "Services database for src_service and dst_service, in services(5) format. Empty: /etc/services; none: no service names." },
	{ "enrich.reload.interval", KEY_INT, 0, 3600, "5",
	  "Seconds between checks whether the GeoIP, interface map and prefix list files changed; 0 reloads only on SIGHUP." },
	{ "enrich.stats.interval", KEY_INT, 0, 86400, "60",
	  "Seconds between counter summaries in the enrich log; 0 turns them off." },
	{ "enrich.metrics.listen", KEY_STRING, 0, 0, "127.0.0.1:9102",
	  "TCP address (host:port) where flowsift-enrich serves /metrics, /healthz and /readyz. Empty: no metrics server." },
	{ "filter.rules", KEY_STRING, 0, 0, "filter.rules",
	  "Rules file of flowsift-filter (docs/filter.md); `make run` starts flowsift-filter only when it exists. Reloaded on SIGHUP and when filter.reload.interval finds it changed." },
	{ "filter.topic", KEY_TOPIC, 1, 0, "flows.enriched",
	  "Topic flowsift-filter consumes." },
	{ "filter.group.id", KEY_STRING, 0, 0, "flowsift-filter",
	  "Kafka consumer group of flowsift-filter." },
	{ "filter.default.route", KEY_TOPIC, 0, 0, "",
	  "Topic for flows that match no rule and were not dropped. Empty: such flows are not produced anywhere." },
	{ "filter.commit.interval.ms", KEY_INT, 10, 60000, "500",
	  "How often flowsift-filter waits for its produced flows to be delivered and then stores the consumed offsets, in milliseconds." },
	{ "filter.stats.interval", KEY_INT, 0, 86400, "60",
	  "Seconds between per-rule match counts in the filter log; 0 turns them off." },
	{ "filter.reload.interval", KEY_INT, 0, 3600, "5",
	  "Seconds between checks whether the filter.rules file changed (inode, size or modification time); 0 reloads only on SIGHUP." },
	{ "filter.metrics.listen", KEY_STRING, 0, 0, "127.0.0.1:9103",
	  "TCP address (host:port) where flowsift-filter serves /metrics, /healthz and /readyz. Empty: no metrics server." },
	{ "report.topic", KEY_TOPIC, 1, 0, "flows.enriched",
	  "Topic flowsift-report consumes." },
	{ "report.group.id", KEY_STRING, 0, 0, "flowsift-report",
	  "Kafka consumer group of flowsift-report." },
	{ "report.flush.interval.ms", KEY_INT, 10, 60000, "1000",
	  "How often flowsift-report writes its pre-aggregated counters to Redis, in milliseconds." },
	{ "report.stats.interval", KEY_INT, 0, 86400, "60",
	  "Seconds between counter summaries in the report log; 0 turns them off." },
	{ "report.metrics.listen", KEY_STRING, 0, 0, "127.0.0.1:9104",
	  "TCP address (host:port) where flowsift-report serves /metrics, /healthz and /readyz. Empty: no metrics server." },
	{ "detect.fanout.threshold", KEY_INT, 0, 1000000000, "100",
	  "Fan-out rule: alert when one source reaches this many distinct destinations on one port of detect.fanout.ports within detect.fanout.window (docs/alerts.md). 0 turns the rule off." },
	{ "detect.fanout.window", KEY_INT, 1, 86400, "60",
	  "Window of the fan-out rule, in seconds." },
	{ "detect.fanout.ports", KEY_STRING, 0, 0, "445,135,139,25,23,22,3389",
	  "Destination ports (TCP or UDP) the fan-out rule watches, comma-separated; each port is counted on its own." },
	{ "detect.syn_scan.threshold", KEY_INT, 0, 1000000000, "200",
	  "SYN scan rule: alert when one source sends this many TCP flows with SYN but no ACK, FIN or RST within the window. 0 turns the rule off." },
	{ "detect.syn_scan.window", KEY_INT, 1, 86400, "60",
	  "Window of the SYN scan rule, in seconds." },
	{ "detect.port_scan.threshold", KEY_INT, 0, 65536, "100",
	  "Port scan rule: alert when one source probes this many distinct destination ports of one host with flows of at most 2 packets within the window. 0 turns the rule off." },
	{ "detect.port_scan.window", KEY_INT, 1, 86400, "60",
	  "Window of the port scan rule, in seconds." },
	{ "detect.smtp.threshold", KEY_INT, 0, 1000000000, "10",
	  "Outbound SMTP rule: alert when a host outside detect.smtp.mail.servers sends this many flows to TCP port 25 outward (traffic_direction outbound, or from enrich.home.networks to elsewhere) within the window. 0 turns the rule off." },
	{ "detect.smtp.window", KEY_INT, 1, 86400, "300",
	  "Window of the outbound SMTP rule, in seconds." },
	{ "detect.smtp.mail.servers", KEY_STRING, 0, 0, "",
	  "Your mail servers as comma-separated addresses or prefixes (192.0.2.25,2001:db8::/64). Empty: the outbound SMTP rule is off." },
	{ "detect.volume.metric", KEY_STRING, 0, 0, "bytes",
	  "What the volume rules count: bytes, packets or flows." },
	{ "detect.volume_src.threshold", KEY_INT, 0, 1000000000000, "125000000",
	  "Flood source rule: alert when a host sends more than this many detect.volume.metric per second, averaged over the window. 0 turns the rule off." },
	{ "detect.volume_src.window", KEY_INT, 1, 86400, "60",
	  "Window of the flood source rule, in seconds." },
	{ "detect.volume_dst.threshold", KEY_INT, 0, 1000000000000, "125000000",
	  "Flood target rule: alert when a host receives more than this many detect.volume.metric per second, averaged over the window. 0 turns the rule off." },
	{ "detect.volume_dst.window", KEY_INT, 1, 86400, "60",
	  "Window of the flood target rule, in seconds." },
	{ "detect.fanin.threshold", KEY_INT, 0, 1000000000, "1000",
	  "Fan-in rule: alert when one destination is reached by this many distinct sources within the window. 0 turns the rule off." },
	{ "detect.fanin.window", KEY_INT, 1, 86400, "60",
	  "Window of the fan-in rule, in seconds." },
	{ "detect.allowlist", KEY_STRING, 0, 0, "",
	  "Addresses and prefixes (comma-separated) whose flows every detection rule ignores, as source or destination: scanners you run, backup servers, CDNs." },
	{ "detect.allowlist.filter", KEY_STRING, 0, 0, "",
	  "Filter expression (docs/filter.md) whose matching flows every detection rule ignores, for example `src host 192.0.2.10 or dst net 198.51.100.0/24 and dst port 873`. Empty: none." },
	{ "detect.table.entries", KEY_INT, 1024, 16777216, "65536",
	  "Entries of flowsift-report's local detection table between two writes to Redis; a flow takes up to 6. A full table is written at once." },
	{ "alert.cooldown", KEY_INT, 1, 86400, "300",
	  "Least time between two updates of one open alert, in seconds." },
	{ "alert.quiet", KEY_INT, 1, 86400, "120",
	  "An open alert is cleared after its rule has not matched for this many seconds." },
	{ "alert.rate.max", KEY_INT, 0, 1000000, "600",
	  "Alert events (raised, updated, cleared) that flowsift-report sends to its outputs per minute. Beyond it they are counted as suppressed and logged once a minute; Redis and `flowsift report alerts` keep them all. 0: no limit." },
	{ "alert.topic", KEY_TOPIC, 0, 0, "flows.alerts",
	  "Topic for alerts (schemas/alert.avsc). Empty: alerts are not produced to Kafka." },
	{ "alert.syslog.target", KEY_STRING, 0, 0, "",
	  "Syslog receiver for alerts as RFC 5424 messages with a CEF payload: udp://HOST:PORT or tcp://HOST:PORT. Empty: no syslog." },
	{ "alert.syslog.facility", KEY_INT, 0, 23, "16",
	  "Syslog facility of alert messages (16 is local0)." },
	{ "alert.json.output", KEY_STRING, 0, 0, "",
	  "File that alerts are appended to as JSON lines, or - for standard output. Empty: no JSON lines." },
	{ "console.listen", KEY_STRING, 0, 0, "127.0.0.1:9190",
	  "Address (host:port or [ipv6]:port) where flowsift-console serves its web page and JSON API." },
	{ "console.token.file", KEY_STRING, 0, 0, "",
	  "File whose first line is the access token of flowsift-console. Empty: no token is needed." },
	{ "console.topic", KEY_TOPIC, 1, 0, "flows.enriched",
	  "Topic that flowsift-console reads for flow queries and host drill-down." },
	{ "console.rows.max", KEY_INT, 1, 1000, "1000",
	  "Maximum rows (top-N rows, flows, alerts) in one flowsift-console API response." },
	{ "console.query.timeout.ms", KEY_INT, 100, 60000, "5000",
	  "Maximum time one flowsift-console request spends reading Kafka, and the reply timeout of its Redis commands, in milliseconds." },
	{ "console.query.range.max", KEY_INT, 10, 604800, "3600",
	  "Longest time range of one flowsift-console flow query, in seconds." },
	{ "console.query.scan.max", KEY_INT, 1000, 100000000, "1000000",
	  "Maximum flows one flowsift-console flow query reads." },
	{ "console.connections.max", KEY_INT, 1, 1024, "32",
	  "Maximum concurrent HTTP connections of flowsift-console." },
	{ "console.connections.per_ip.max", KEY_INT, 1, 1024, "8",
	  "Maximum concurrent HTTP connections of flowsift-console from one client address." },
	{ "console.idle.timeout.ms", KEY_INT, 1000, 600000, "15000",
	  "Time after which flowsift-console closes an idle HTTP connection, in milliseconds (rounded up to whole seconds)." },
};

#define KEY_COUNT (sizeof(key_table) / sizeof(key_table[0]))
#define VALUE_MAX 1024

struct kafka_prop {
	char *name;
	char *value;
};

struct fs_config {
	char *values[KEY_COUNT];
	int64_t ints[KEY_COUNT];
	unsigned file_line[KEY_COUNT]; /* line of the file that set the key, 0 when none */
	bool is_set[KEY_COUNT];        /* the file or the environment set the key */
	struct kafka_prop *kafka;
	size_t kafka_count;
};

/* Keys whose value must be one of a fixed set of words, separated by '|'. */
static const struct {
	const char *key;
	const char *choices;
} key_choices[] = {
	{ "log.level", "error|warning|notice|info|debug" },
	{ "log.format", "logfmt|json" },
	{ "enrich.as.prefer", "exporter|geoip" },
	{ "ingest.session.key", "address|address_port" },
};

/* Returns the choices of key, or NULL when any value is accepted. */
static const char *
choices_of(const char *key)
{
	for (size_t i = 0; i < sizeof(key_choices) / sizeof(key_choices[0]); i++) {
		if (strcmp(key_choices[i].key, key) == 0)
			return key_choices[i].choices;
	}
	return NULL;
}

static bool
is_choice(const char *choices, const char *value)
{
	size_t n = strlen(value);

	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, value, n) == 0)
			return true;
		p += len + (bar ? 1 : 0);
	}
	return false;
}

static int
find_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(key_table[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static int
set_kafka_prop(struct fs_config *config, const char *name, const char *value)
{
	struct kafka_prop *grown;

	for (size_t i = 0; i < config->kafka_count; i++) {
		if (strcmp(config->kafka[i].name, name) == 0) {
			char *copy = strdup(value);

			if (!copy)
				return FS_ERR_SYSTEM;
			free(config->kafka[i].value);
			config->kafka[i].value = copy;
			return 0;
		}
	}
	grown = realloc(config->kafka, (config->kafka_count + 1) * sizeof(*grown));
	if (!grown)
		return FS_ERR_SYSTEM;
	config->kafka = grown;
	grown[config->kafka_count].name = strdup(name);
	grown[config->kafka_count].value = strdup(value);
	if (!grown[config->kafka_count].name || !grown[config->kafka_count].value) {
		free(grown[config->kafka_count].name);
		free(grown[config->kafka_count].value);
		return FS_ERR_SYSTEM;
	}
	config->kafka_count++;
	return 0;
}

/* Kafka's limit on a topic name's length. */
#define MAX_TOPIC_LEN 249

/* Returns whether value is a valid Kafka topic name, or empty when allow_empty is set. */
static bool
topic_name_ok(const char *value, bool allow_empty)
{
	size_t len = strlen(value);

	if (len == 0)
		return allow_empty;
	/* Kafka rejects these two names although their characters are valid. */
	if (len > MAX_TOPIC_LEN || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)value[i]) && value[i] != '.' && value[i] != '_' &&
		    value[i] != '-')
			return false;
	}
	return true;
}

bool
fs_config_topic_name_ok(const char *name)
{
	return topic_name_ok(name, false);
}

/* Validates and stores one value; origin names the file line or variable. */
static int
set_value(struct fs_config *config, const char *name, const char *value,
	  const char *origin, char *err, size_t err_len)
{
	int i = find_key(name);
	char *copy;

	if (i < 0) {
		if (strncmp(name, "kafka.", 6) == 0 && name[6] != '\0') {
			if (set_kafka_prop(config, name + 6, value) < 0)
				return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
			return 0;
		}
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: unknown configuration key '%s' (see docs/CONFIGURATION.md)",
			       origin, name);
	}
	if (choices_of(name) && !is_choice(choices_of(name), value))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: invalid value '%s' for '%s': expected one of %s",
			       origin, value, name, choices_of(name));
	if (key_table[i].type == KEY_TOPIC && !topic_name_ok(value, key_table[i].min == 0))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: invalid topic name '%s' for '%s': expected %s1 to %d "
			       "characters of A-Z, a-z, 0-9, '.', '_' and '-', other than '.' "
			       "and '..'",
			       origin, value, name, key_table[i].min == 0 ? "empty, or " : "",
			       MAX_TOPIC_LEN);
	if (key_table[i].type == KEY_INT) {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno || end == value || *end != '\0')
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "%s: invalid value '%s' for '%s': expected an integer",
				       origin, value, name);
		if (n < key_table[i].min || n > key_table[i].max)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "%s: value %lld for '%s' is out of range %lld..%lld",
				       origin, n, name, (long long)key_table[i].min,
				       (long long)key_table[i].max);
		config->ints[i] = n;
	}
	copy = strdup(value);
	if (!copy)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	free(config->values[i]);
	config->values[i] = copy;
	config->is_set[i] = true;
	return 0;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * Parses line lineno of the file, `key = value`, in place.  A key set twice
 * is an error, since the line that loses would be ignored without a word.
 * Returns 0, or an error with err set.
 */
static int
parse_line(struct fs_config *config, char *line, unsigned lineno, const char *origin,
	   char *err, size_t err_len)
{
	char *eq, *key, *value;
	size_t vlen;
	int i;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: expected 'key = value'", origin);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	/* An unquoted value ends at a '#' that follows whitespace: a trailing comment. */
	if (value[0] != '"') {
		for (char *p = value; *p; p++) {
			if (*p == '#' && p > value && isspace((unsigned char)p[-1])) {
				*p = '\0';
				value = trim(value);
				break;
			}
		}
	}
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	if (*key == '\0')
		return fs_fail(err, err_len, FS_ERR_INVALID, "%s: missing key", origin);
	i = find_key(key);
	if (i >= 0 && config->file_line[i] != 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: '%s' is set again; line %u set it first, keep one of the two",
			       origin, key, config->file_line[i]);
	if (i >= 0)
		config->file_line[i] = lineno;
	return set_value(config, key, value, origin, err, err_len);
}

static int
load_file(struct fs_config *config, const char *path, char *err, size_t err_len)
{
	const char *reason;
	FILE *file = fs_regular_file_stream(path, &reason);
	char line[VALUE_MAX + 256];
	char origin[512];
	unsigned lineno = 0;
	int rc = 0;
	struct stat st;

	if (!file) {
		/* A folder or FIFO is a mistake to name; a missing file may be the default's. */
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "configuration file '%s' is a folder; give the path of a file",
				       path);
		return fs_fail(err, err_len, errno == ENOENT ? FS_ERR_NOT_FOUND : FS_ERR_INVALID,
			       "cannot open configuration file '%s': %s", path, reason);
	}
	while (fgets(line, sizeof(line), file)) {
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(file)) {
			rc = fs_fail(err, err_len, FS_ERR_INVALID,
				     "%s: line longer than %d bytes", origin, VALUE_MAX);
			break;
		}
		rc = parse_line(config, line, lineno, origin, err, err_len);
		if (rc < 0)
			break;
	}
	if (rc == 0 && ferror(file))
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM,
			     "cannot read configuration file '%s' after line %u: %s", path, lineno,
			     strerror(errno));
	fclose(file);
	return rc;
}

/* Stores in key the table key that lowered names with '_' for '.'; returns 0 when none does. */
static int
table_key_of_env(const char *lowered, char *key, size_t key_len)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		char candidate[256];

		snprintf(candidate, sizeof(candidate), "%s", key_table[i].name);
		for (char *p = candidate; *p; p++) {
			if (*p == '.')
				*p = '_';
		}
		if (strcmp(candidate, lowered) == 0) {
			snprintf(key, key_len, "%s", key_table[i].name);
			return 1;
		}
	}
	return 0;
}

/* Returns 1 when env_name (the part after FLOWSIFT_) names a key of the table. */
static int
is_table_key_env(const char *env_name)
{
	char lowered[256], key[256];
	size_t n = strlen(env_name);

	if (n >= sizeof(lowered))
		return 0;
	for (size_t i = 0; i <= n; i++)
		lowered[i] = (char)tolower((unsigned char)env_name[i]);
	return table_key_of_env(lowered, key, sizeof(key));
}

/*
 * Maps the part of a variable's name after FLOWSIFT_ (REDIS_URL) to its key
 * (redis.url), or KAFKA_* to a Kafka property.  Returns 0 when name maps to
 * no key.
 */
static int
env_name_to_key(const char *env_name, char *key, size_t key_len)
{
	char lowered[256];
	size_t n = strlen(env_name);

	if (n >= sizeof(lowered) || n >= key_len)
		return 0;
	for (size_t i = 0; i <= n; i++)
		lowered[i] = (char)tolower((unsigned char)env_name[i]);
	if (table_key_of_env(lowered, key, key_len))
		return 1;
	if (strncmp(lowered, "kafka_", 6) == 0 && lowered[6] != '\0') {
		for (char *p = lowered; *p; p++) {
			if (*p == '_')
				*p = '.';
		}
		snprintf(key, key_len, "%s", lowered);
		return 1;
	}
	return 0;
}

/*
 * Reads the secret file path into buf: the whole file, less one trailing
 * newline, so files written by echo and Kubernetes Secret volumes both work.
 * Error messages name the file and variable, never the content.
 */
static int
read_value_file(const char *path, const char *origin, char *buf, size_t len, char *err,
		size_t err_len)
{
	const char *reason;
	FILE *file = fs_regular_file_stream(path, &reason);
	size_t n;

	if (!file)
		return fs_fail(err, err_len, FS_ERR_NOT_FOUND, "%s: cannot open '%s': %s", origin,
			       path, reason);
	n = fread(buf, 1, len - 1, file);
	if (ferror(file) || (n == len - 1 && fgetc(file) != EOF)) {
		fclose(file);
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: cannot read '%s' or it is longer than %zu bytes", origin, path,
			       len - 2);
	}
	fclose(file);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (memchr(buf, '\0', n) || strchr(buf, '\n'))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: '%s' must hold one line of text", origin, path);
	return 0;
}

/*
 * Applies FLOWSIFT_<KEY>_FILE=path: the value of <KEY> is the content of
 * path (the convention of container secrets).  name is the variable's name
 * and path its value.  Returns 0 or a negative fs_result with err set.
 */
static int
load_environment_file(struct fs_config *config, const char *name, const char *path, char *err,
		      size_t err_len)
{
	char base[256], key[256], origin[300], value[VALUE_MAX + 2];
	size_t n = strlen(name) - 5;
	int rc;

	memcpy(base, name, n);
	base[n] = '\0';
	snprintf(origin, sizeof(origin), "environment variable %s", name);
	if (!env_name_to_key(base + 9, key, sizeof(key)))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "%s: no configuration key is named by %s", origin, base);
	if (getenv(base))
		return fs_fail(err, err_len, FS_ERR_INVALID, "%s: set %s or %s, not both", origin,
			       base, name);
	rc = read_value_file(path, origin, value, sizeof(value), err, err_len);
	if (rc < 0)
		return rc;
	rc = set_value(config, key, value, origin, err, err_len);
	/* The value may be a secret: wipe the copy on the stack. */
	memset(value, 0, sizeof(value));
	return rc;
}

static int
load_environment(struct fs_config *config, char *err, size_t err_len)
{
	for (char **env = environ; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		char name[256], key[256], origin[300];
		size_t n;
		int rc;

		if (strncmp(*env, "FLOWSIFT_", 9) != 0 || !eq)
			continue;
		n = (size_t)(eq - *env);
		if (n >= sizeof(name))
			continue;
		memcpy(name, *env, n);
		name[n] = '\0';
		if (strcmp(name, "FLOWSIFT_CONFIG") == 0 || strcmp(name, "FLOWSIFT_CORPUS") == 0)
			continue;
		/*
		 * A key whose name ends in ".file" (console.token.file) is set by
		 * its own variable.  Only other names ending in _FILE name a file
		 * that contains the value of a key.
		 */
		if (n > 9 + 5 && strcmp(name + n - 5, "_FILE") == 0 && !is_table_key_env(name + 9)) {
			rc = load_environment_file(config, name, eq + 1, err, err_len);
			if (rc < 0)
				return rc;
			continue;
		}
		snprintf(origin, sizeof(origin), "environment variable %s", name);
		if (!env_name_to_key(name + 9, key, sizeof(key)))
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "%s: no configuration key has this name", origin);
		rc = set_value(config, key, eq + 1, origin, err, err_len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
fs_config_load(struct fs_config **out, const char *path, char *err,
	       size_t err_len)
{
	struct fs_config *config = calloc(1, sizeof(*config));
	int rc = 0;

	*out = NULL;
	if (!config)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		rc = set_value(config, key_table[i].name, key_table[i].default_value,
			       "default", err, err_len);
		if (rc < 0)
			goto out;
	}
	memset(config->is_set, 0, sizeof(config->is_set));
	if (!path)
		path = getenv("FLOWSIFT_CONFIG");
	if (!path && access("flowsift.conf", F_OK) == 0)
		path = "flowsift.conf";
	if (path) {
		rc = load_file(config, path, err, err_len);
		if (rc < 0)
			goto out;
	}
	rc = load_environment(config, err, err_len);
out:
	if (rc < 0) {
		fs_config_free(config);
		return rc;
	}
	*out = config;
	return 0;
}

void
fs_config_free(struct fs_config *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < KEY_COUNT; i++)
		free(config->values[i]);
	for (size_t i = 0; i < config->kafka_count; i++) {
		free(config->kafka[i].name);
		free(config->kafka[i].value);
	}
	free(config->kafka);
	free(config);
}

static int
require_key(const char *key)
{
	int i = find_key(key);

	if (i < 0) {
		/* A key missing from the table is a programming error, not input. */
		fs_log(FS_LOG_ERR, "config", "key '%s' is not in the configuration table", key);
		abort();
	}
	return i;
}

void
fs_config_apply_logging(const struct fs_config *config)
{
	enum fs_log_level level;
	enum fs_log_format format;

	if (fs_log_level_parse(fs_config_str(config, "log.level"), &level) == 0)
		fs_log_set_level(level);
	if (fs_log_format_parse(fs_config_str(config, "log.format"), &format) == 0)
		fs_log_set_format(format);
}

int
fs_config_has(const struct fs_config *config, const char *key)
{
	(void)config;
	return find_key(key) >= 0;
}

int
fs_config_is_set(const struct fs_config *config, const char *key)
{
	return config->is_set[require_key(key)] ? 1 : 0;
}

const char *
fs_config_str(const struct fs_config *config, const char *key)
{
	return config->values[require_key(key)];
}

int64_t
fs_config_int(const struct fs_config *config, const char *key)
{
	return config->ints[require_key(key)];
}

int
fs_config_each_kafka(const struct fs_config *config, fs_config_kafka_fn *fn,
		     void *opaque)
{
	for (size_t i = 0; i < config->kafka_count; i++) {
		int rc = fn(config->kafka[i].name, config->kafka[i].value, opaque);

		if (rc)
			return rc;
	}
	return 0;
}

/* Copies the first line of <run.dir>/<name> into buf. */
static int
read_run_file(const struct fs_config *config, const char *name, char *buf,
	      size_t len, char *err, size_t err_len)
{
	char path[1024];
	FILE *file;
	char *line;

	snprintf(path, sizeof(path), "%s/%s", fs_config_str(config, "run.dir"), name);
	file = fopen(path, "r");
	if (!file)
		return fs_fail(err, err_len, FS_ERR_NOT_FOUND, "cannot read '%s': %s",
			       path, strerror(errno));
	line = fgets(buf, (int)len, file);
	fclose(file);
	if (!line)
		return fs_fail(err, err_len, FS_ERR_NOT_FOUND, "'%s' is empty", path);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		return fs_fail(err, err_len, FS_ERR_NOT_FOUND, "'%s' is empty", path);
	return 0;
}

int
fs_config_bootstrap(const struct fs_config *config, char *buf, size_t len,
		    char *err, size_t err_len)
{
	const char *servers = fs_config_str(config, "kafka.bootstrap.servers");
	int rc;

	if (servers[0] != '\0') {
		snprintf(buf, len, "%s", servers);
		return 0;
	}
	rc = read_run_file(config, "broker.addr", buf, len, err, err_len);
	if (rc < 0) {
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", err);
		return fs_fail(err, err_len, rc,
			       "no Kafka broker configured and no embedded broker running (%s): "
			       "start `make run` or set kafka.bootstrap.servers", reason);
	}
	return 0;
}

int
fs_config_redis_url(const struct fs_config *config, char *buf, size_t len,
		    char *err, size_t err_len)
{
	const char *url = fs_config_str(config, "redis.url");
	int rc;

	if (url[0] != '\0') {
		snprintf(buf, len, "%s", url);
		return 0;
	}
	rc = read_run_file(config, "redis.url", buf, len, err, err_len);
	if (rc < 0) {
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", err);
		return fs_fail(err, err_len, rc,
			       "no Redis configured and none started by `make run` (%s): "
			       "start `make run` or set redis.url", reason);
	}
	return 0;
}

const char *
fs_config_filter_loop(const struct fs_config *config, const char *topic)
{
	static const char *const inputs[] = { "filter.topic", "kafka.topic.enriched",
					      "kafka.topic.raw" };

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		if (strcmp(fs_config_str(config, inputs[i]), topic) == 0)
			return inputs[i];
	}
	return NULL;
}

int
fs_config_is_secret(const char *key)
{
	static const char *const words[] = { "password", "secret", "sasl" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasestr(key, words[i]))
			return 1;
	}
	return 0;
}

char *
fs_config_mask(const char *key, const char *value, char *buf, size_t len)
{
	const char *scheme = strstr(value, "://");
	const char *at;

	if (fs_config_is_secret(key)) {
		snprintf(buf, len, "%s", value[0] ? "***" : "");
		return buf;
	}
	snprintf(buf, len, "%s", value);
	if (!scheme)
		return buf;
	/*
	 * The user info runs from "//" to the last '@', because a password may
	 * contain an unescaped '/', ':' or '@' while host, port and database never
	 * contain one.  The whole of it is hidden, user name included.
	 */
	at = strrchr(scheme + 3, '@');
	if (at)
		snprintf(buf, len, "%.*s***%s", (int)(scheme + 3 - value), value, at);
	return buf;
}

void
fs_config_write_docs(int fd)
{
	FILE *out;
	int copy;

	if (fd < 0)
		fd = STDERR_FILENO;
	copy = dup(fd);
	if (copy < 0)
		return;
	out = fdopen(copy, "w");
	if (!out) {
		close(copy);
		return;
	}
	fprintf(out, "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key_def *k = &key_table[i];
		char env[256];
		size_t j;

		for (j = 0; k->name[j] && j + 1 < sizeof(env); j++)
			env[j] = k->name[j] == '.' ? '_' : (char)toupper((unsigned char)k->name[j]);
		env[j] = '\0';
		if (k->type == KEY_INT)
			fprintf(out, "| `%s` (`FLOWSIFT_%s`) | integer | `%s` | %lld..%lld | %s |\n",
				k->name, env, k->default_value, (long long)k->min,
				(long long)k->max, k->doc);
		else
			fprintf(out, "| `%s` (`FLOWSIFT_%s`) | %s | `%s` | | %s |\n",
				k->name, env, k->type == KEY_TOPIC ? "topic" : "string",
				k->default_value, k->doc);
	}
	fclose(out);
}
