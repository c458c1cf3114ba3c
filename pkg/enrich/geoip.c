/* geoip.c - MaxMind DB lookups through libmaxminddb. */
#include "enrich/geoip.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error_text.h"
#include "core/regular_file.h"
#include "core/result.h"

struct fs_geoip {
	MMDB_s city;
	MMDB_s asn;
	bool has_city;
	bool has_asn;
};

static int
open_db(const char *path, MMDB_s *db, char *err, size_t err_len)
{
	const char *reason;
	uint64_t size;
	int status, fd;

	/* libmaxminddb's open() would wait for ever on a FIFO named by mistake. */
	fd = fs_regular_file_open(path, &size, &reason);
	if (fd < 0)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot open MaxMind database '%s': %s",
			       path, reason);
	close(fd);
	status = MMDB_open(path, MMDB_MODE_MMAP, db);

	if (status == MMDB_SUCCESS)
		return 0;
	if (status == MMDB_IO_ERROR)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot open MaxMind database '%s': %s (%m)",
			       path, MMDB_strerror(status));
	return fs_fail(err, err_len, FS_ERR_INVALID, "cannot open MaxMind database '%s': %s",
		       path, MMDB_strerror(status));
}

int
fs_geoip_open(const char *city_path, const char *asn_path, struct fs_geoip **out,
	      char *err, size_t err_len)
{
	struct fs_geoip *g = calloc(1, sizeof(*g));
	int rc = 0;

	*out = NULL;
	if (g == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	if (city_path != NULL && city_path[0] != '\0') {
		rc = open_db(city_path, &g->city, err, err_len);
		if (rc < 0)
			goto fail;
		g->has_city = true;
	}
	if (asn_path != NULL && asn_path[0] != '\0') {
		rc = open_db(asn_path, &g->asn, err, err_len);
		if (rc < 0)
			goto fail;
		g->has_asn = true;
	}
	*out = g;
	return 0;
fail:
	fs_geoip_free(g);
	return rc;
}

void
fs_geoip_free(struct fs_geoip *g)
{
	if (g == NULL)
		return;
	if (g->has_city)
		MMDB_close(&g->city);
	if (g->has_asn)
		MMDB_close(&g->asn);
	free(g);
}

/* Copies the UTF-8 string at the path into dst; returns true when found. */
static bool
get_text(MMDB_entry_s *entry, char *dst, size_t size, const char *const *path)
{
	MMDB_entry_data_s data;

	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
	    data.type != MMDB_DATA_TYPE_UTF8_STRING)
		return false;
	fs_flow_set_text(dst, size, data.utf8_string, data.data_size);
	return true;
}

static uint32_t
get_asn(MMDB_entry_s *entry)
{
	static const char *const number_path[] = { "autonomous_system_number", NULL };
	static const char *const ipinfo_path[] = { "asn", NULL };
	MMDB_entry_data_s data;
	char text[16];

	if (MMDB_aget_value(entry, &data, number_path) == MMDB_SUCCESS && data.has_data) {
		if (data.type == MMDB_DATA_TYPE_UINT32)
			return data.uint32;
		if (data.type == MMDB_DATA_TYPE_UINT16)
			return data.uint16;
	}
	/* IPinfo writes "AS64500". */
	if (get_text(entry, text, sizeof(text), ipinfo_path) &&
	    (text[0] == 'A' || text[0] == 'a') && (text[1] == 'S' || text[1] == 's')) {
		unsigned long long n = 0;
		const char *p = text + 2;

		if (*p < '0' || *p > '9')
			return 0;
		for (; *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (unsigned long long)(*p - '0');
		return *p == '\0' && n <= UINT32_MAX ? (uint32_t)n : 0;
	}
	return 0;
}

static void
read_record(MMDB_entry_s *entry, struct fs_geoip_result *r)
{
	static const char *const country_path[] = { "country", "iso_code", NULL };
	static const char *const registered_path[] = { "registered_country", "iso_code", NULL };
	static const char *const flat_country_path[] = { "country", NULL };
	static const char *const city_path[] = { "city", "names", "en", NULL };
	static const char *const org_path[] = { "autonomous_system_organization", NULL };
	static const char *const ipinfo_org_path[] = { "as_name", NULL };

	if (r->country[0] == '\0' &&
	    !get_text(entry, r->country, sizeof(r->country), country_path) &&
	    !get_text(entry, r->country, sizeof(r->country), registered_path))
		get_text(entry, r->country, sizeof(r->country), flat_country_path);
	if (r->city[0] == '\0')
		get_text(entry, r->city, sizeof(r->city), city_path);
	if (r->asn == 0)
		r->asn = get_asn(entry);
	if (r->as_org[0] == '\0' && !get_text(entry, r->as_org, sizeof(r->as_org), org_path))
		get_text(entry, r->as_org, sizeof(r->as_org), ipinfo_org_path);
}

static bool
lookup_db(const MMDB_s *db, const struct sockaddr *sa, struct fs_geoip_result *r)
{
	MMDB_lookup_result_s found;
	int mmdb_error = MMDB_SUCCESS;

	found = MMDB_lookup_sockaddr(db, sa, &mmdb_error);
	if (mmdb_error != MMDB_SUCCESS || !found.found_entry)
		return false;
	read_record(&found.entry, r);
	return true;
}

bool
fs_geoip_lookup(const struct fs_geoip *g, const struct fs_addr *addr,
		struct fs_geoip_result *result)
{
	struct sockaddr_storage ss;
	bool found = false;

	memset(result, 0, sizeof(*result));
	memset(&ss, 0, sizeof(ss));
	if (addr->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr->bytes, 4);
	} else if (addr->family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr->bytes, 16);
	} else {
		return false;
	}
	if (g->has_city && lookup_db(&g->city, (const struct sockaddr *)&ss, result))
		found = true;
	if (g->has_asn && lookup_db(&g->asn, (const struct sockaddr *)&ss, result))
		found = true;
	/* A country code is two letters; anything else is not one. */
	if (strlen(result->country) != 2)
		result->country[0] = '\0';
	return found;
}
