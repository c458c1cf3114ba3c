/* services.c - a port-indexed table of services(5) names. */
#include "enrich/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_text.h"
#include "core/result.h"
#include "enrich/textfile.h"


enum { PROTO_TCP, PROTO_UDP, PROTO_SCTP, PROTO_COUNT };

struct fs_services {
	/* Index + 1 into names of each port below FS_SERVICES_DYNAMIC_PORT; 0 is none. */
	uint32_t index[PROTO_COUNT][FS_SERVICES_DYNAMIC_PORT];
	char (*names)[FS_FLOW_SERVICE_LEN];
	size_t count;
	size_t cap;
};

static int
proto_slot(const char *name)
{
	if (strcmp(name, "tcp") == 0)
		return PROTO_TCP;
	if (strcmp(name, "udp") == 0)
		return PROTO_UDP;
	if (strcmp(name, "sctp") == 0)
		return PROTO_SCTP;
	return -1;
}

static int
add_name(struct fs_services *s, int slot, unsigned port, const char *name)
{
	if (s->index[slot][port] != 0)
		return 0;
	if (s->count == s->cap) {
		size_t cap = s->cap == 0 ? 1024 : s->cap * 2;
		char (*grown)[FS_FLOW_SERVICE_LEN] = realloc(s->names, cap * sizeof(*grown));

		if (grown == NULL)
			return FS_ERR_SYSTEM;
		s->names = grown;
		s->cap = cap;
	}
	fs_flow_set_text(s->names[s->count], FS_FLOW_SERVICE_LEN, name, strlen(name));
	s->count++;
	s->index[slot][port] = (uint32_t)s->count;
	return 0;
}

/* Handles one line's words; returns 0, or FS_ERR_SYSTEM. */
static int
add_line(struct fs_services *s, const struct fs_text_line *line)
{
	const char *name = line->words[0].value;
	const char *port_proto;
	char *slash, *end;
	unsigned long port;
	char copy[64];
	int slot;

	if (line->count < 2 || line->words[0].key != NULL || line->words[1].key != NULL)
		return 0;
	port_proto = line->words[1].value;
	if (strlen(port_proto) >= sizeof(copy))
		return 0;
	strcpy(copy, port_proto);
	slash = strchr(copy, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	slot = proto_slot(slash + 1);
	port = strtoul(copy, &end, 10);
	if (slot < 0 || end == copy || *end != '\0' || port >= FS_SERVICES_DYNAMIC_PORT)
		return 0;
	return add_name(s, slot, (unsigned)port, name);
}

int
fs_services_load(const char *path, struct fs_services **out, char *err, size_t err_len)
{
	struct fs_text_reader reader = { 0 };
	struct fs_text_line *line = NULL;
	struct fs_services *s = NULL;
	char reason[256];
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		path = FS_SERVICES_DEFAULT_PATH;
	rc = fs_text_read_file(path, &text, &len, err, err_len);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	line = malloc(sizeof(*line));
	if (s == NULL || line == NULL) {
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
		goto out;
	}
	reader.data = text;
	reader.len = len;
	for (;;) {
		rc = fs_text_next_line(&reader, line, reason, sizeof(reason));
		if (rc == 0)
			break;
		if (rc < 0)
			continue;     /* a malformed line is skipped, as libc does */
		rc = add_line(s, line);
		if (rc < 0) {
			fs_fail(err, err_len, rc, "out of memory reading '%s'", path);
			goto out;
		}
	}
	*out = s;
	s = NULL;
out:
	fs_services_free(s);
	free(line);
	free(text);
	return rc;
}

void
fs_services_free(struct fs_services *s)
{
	if (s == NULL)
		return;
	free(s->names);
	free(s);
}

const char *
fs_services_name(const struct fs_services *s, uint8_t proto, uint16_t port)
{
	int slot;

	switch (proto) {
	case 6: slot = PROTO_TCP; break;
	case 17: slot = PROTO_UDP; break;
	case 132: slot = PROTO_SCTP; break;
	default: return NULL;
	}
	if (port >= FS_SERVICES_DYNAMIC_PORT || s->index[slot][port] == 0)
		return NULL;
	return s->names[s->index[slot][port] - 1];
}

size_t
fs_services_count(const struct fs_services *s)
{
	return s->count;
}
