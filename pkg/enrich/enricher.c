/* enricher.c - applies the enrich sources to flows and reloads their files. */
#include "enrich/enricher.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error_text.h"
#include "core/file_id.h"
#include "core/log.h"
#include "core/result.h"
#include "enrich/geoip.h"
#include "enrich/if_map.h"
#include "enrich/prefix_table.h"
#include "enrich/services.h"
#include "enrich/snmp_poller.h"

#define FACILITY "enrich"

enum source_kind { SOURCE_GEOIP, SOURCE_IF_MAP, SOURCE_PREFIXES, SOURCE_COUNT };

/* A reloadable source of one or two files (GeoIP has two). */
struct source {
	const char *name;
	char path[2][PATH_MAX];
	struct fs_file_id loaded[2];      /* versions in use */
	struct fs_file_id failed[2];      /* versions that failed, logged once */
	bool has_failed;
};

struct fs_enricher {
	struct source sources[SOURCE_COUNT];
	struct fs_geoip *geoip;
	struct fs_if_map *if_map;
	struct fs_prefix_table *prefixes;
	struct fs_prefix_table *home;
	struct fs_services *services;
	struct fs_snmp_poller *snmp;
	struct fs_sampling sampling;
	enum fs_as_prefer as_prefer;
	struct fs_enrich_stats stats;
};

static bool
source_configured(const struct source *s)
{
	return s->path[0][0] != '\0' || s->path[1][0] != '\0';
}

/* Loads the files of source kind and swaps them in.  Returns 0 or a negative fs_result. */
static int
load_source(struct fs_enricher *e, enum source_kind kind, char *err, size_t err_len)
{
	struct source *s = &e->sources[kind];
	struct fs_geoip *geoip = NULL;
	struct fs_if_map *if_map = NULL;
	struct fs_prefix_table *prefixes = NULL;
	struct fs_file_id ids[2];
	int rc = 0;

	/* The identity is read first, so a change during the load is seen next time. */
	fs_file_id_read(s->path[0], &ids[0]);
	fs_file_id_read(s->path[1], &ids[1]);
	switch (kind) {
	case SOURCE_GEOIP:
		rc = fs_geoip_open(s->path[0], s->path[1], &geoip, err, err_len);
		if (rc == 0) {
			fs_geoip_free(e->geoip);
			e->geoip = geoip;
		}
		break;
	case SOURCE_IF_MAP:
		rc = fs_if_map_load(s->path[0], &if_map, err, err_len);
		if (rc == 0) {
			fs_if_map_free(e->if_map);
			e->if_map = if_map;
		}
		break;
	case SOURCE_PREFIXES:
		rc = fs_prefix_table_load(s->path[0], &prefixes, err, err_len);
		if (rc == 0) {
			fs_prefix_table_free(e->prefixes);
			e->prefixes = prefixes;
		}
		break;
	case SOURCE_COUNT:
		break;
	}
	if (rc == 0) {
		s->loaded[0] = ids[0];
		s->loaded[1] = ids[1];
		s->has_failed = false;
	} else {
		s->failed[0] = ids[0];
		s->failed[1] = ids[1];
		s->has_failed = true;
	}
	return rc;
}

int
fs_enricher_new(const struct fs_enrich_settings *settings, struct fs_enricher **out,
		char *err, size_t err_len)
{
	static const char *const names[SOURCE_COUNT] = {
		"GeoIP databases", "interface map", "prefix list",
	};
	struct fs_enricher *e = calloc(1, sizeof(*e));
	char reason[512];
	int rc = 0;

	*out = NULL;
	if (e == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	e->as_prefer = settings->as_prefer;
	e->snmp = settings->snmp;
	for (int i = 0; i < SOURCE_COUNT; i++)
		e->sources[i].name = names[i];
	snprintf(e->sources[SOURCE_GEOIP].path[0], PATH_MAX, "%s", settings->geoip_city);
	snprintf(e->sources[SOURCE_GEOIP].path[1], PATH_MAX, "%s", settings->geoip_asn);
	snprintf(e->sources[SOURCE_IF_MAP].path[0], PATH_MAX, "%s", settings->interfaces_map);
	snprintf(e->sources[SOURCE_PREFIXES].path[0], PATH_MAX, "%s", settings->prefixes);

	for (int i = 0; i < SOURCE_COUNT; i++) {
		if (!source_configured(&e->sources[i]))
			continue;
		rc = load_source(e, (enum source_kind)i, reason, sizeof(reason));
		if (rc < 0) {
			fs_fail(err, err_len, rc, "cannot load the %s: %s", names[i], reason);
			goto fail;
		}
	}

	e->home = fs_prefix_table_new();
	if (e->home == NULL) {
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
		goto fail;
	}
	rc = fs_prefix_table_add_list(e->home, settings->home_networks, reason, sizeof(reason));
	if (rc < 0) {
		fs_fail(err, err_len, rc, "enrich.home.networks: %s", reason);
		goto fail;
	}
	rc = fs_sampling_init(&e->sampling, settings->sampling_override, reason, sizeof(reason));
	if (rc < 0) {
		fs_fail(err, err_len, rc, "enrich.sampling.override: %s", reason);
		goto fail;
	}
	if (strcmp(settings->services, "none") != 0) {
		rc = fs_services_load(settings->services, &e->services, reason, sizeof(reason));
		if (rc < 0) {
			fs_fail(err, err_len, rc, "cannot load the services database: %s", reason);
			goto fail;
		}
	}
	*out = e;
	return 0;
fail:
	fs_enricher_free(e);
	return rc;
}

void
fs_enricher_free(struct fs_enricher *e)
{
	if (e == NULL)
		return;
	fs_geoip_free(e->geoip);
	fs_if_map_free(e->if_map);
	fs_prefix_table_free(e->prefixes);
	fs_prefix_table_free(e->home);
	fs_services_free(e->services);
	fs_sampling_release(&e->sampling);
	free(e);
}

int
fs_enricher_reload(struct fs_enricher *e, bool force)
{
	int reloaded = 0;

	for (int i = 0; i < SOURCE_COUNT; i++) {
		struct source *s = &e->sources[i];
		struct fs_file_id now[2];
		char reason[512];

		if (!source_configured(s))
			continue;
		fs_file_id_read(s->path[0], &now[0]);
		fs_file_id_read(s->path[1], &now[1]);
		if (!force && fs_file_id_equal(&now[0], &s->loaded[0]) &&
		    fs_file_id_equal(&now[1], &s->loaded[1]))
			continue;
		/* The version that failed last time is not retried until it changes. */
		if (!force && s->has_failed && fs_file_id_equal(&now[0], &s->failed[0]) &&
		    fs_file_id_equal(&now[1], &s->failed[1]))
			continue;
		if (load_source(e, (enum source_kind)i, reason, sizeof(reason)) < 0) {
			e->stats.reload_failures++;
			fs_log(FS_LOG_ERR, FACILITY,
			       "reloading the %s failed, the previous version stays in use: %s",
			       s->name, reason);
			continue;
		}
		e->stats.reloads++;
		reloaded++;
		fs_log(FS_LOG_INFO, FACILITY, "reloaded the %s from %s%s%s", s->name,
		       s->path[0], s->path[1][0] != '\0' ? " and " : "", s->path[1]);
	}
	return reloaded;
}

void
fs_enricher_stats(const struct fs_enricher *e, struct fs_enrich_stats *out)
{
	*out = e->stats;
}

static void
set_text_field(struct fs_flow *flow, uint64_t bit, char *dst, size_t size, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	fs_flow_set_text(dst, size, text, strlen(text));
	flow->present |= bit;
}

/* Fills the GeoIP fields of one end of the flow. */
static void
apply_geoip_end(struct fs_enricher *e, struct fs_flow *flow, bool src)
{
	const struct fs_addr *addr = src ? &flow->src_addr : &flow->dst_addr;
	uint64_t as_bit = src ? FS_F_SRC_AS : FS_F_DST_AS;
	uint32_t *as = src ? &flow->src_as : &flow->dst_as;
	struct fs_geoip_result r;

	if (!fs_flow_has(flow, src ? FS_F_SRC_ADDR : FS_F_DST_ADDR) ||
	    !fs_geoip_lookup(e->geoip, addr, &r))
		return;
	e->stats.geoip_hits++;
	if (src) {
		set_text_field(flow, FS_F_SRC_COUNTRY, flow->src_country, FS_FLOW_COUNTRY_LEN,
			       r.country);
		set_text_field(flow, FS_F_SRC_CITY, flow->src_city, FS_FLOW_CITY_LEN, r.city);
	} else {
		set_text_field(flow, FS_F_DST_COUNTRY, flow->dst_country, FS_FLOW_COUNTRY_LEN,
			       r.country);
		set_text_field(flow, FS_F_DST_CITY, flow->dst_city, FS_FLOW_CITY_LEN, r.city);
	}
	if (r.asn == 0)
		return;
	/* Exporters send 0 when they do not know the AS. */
	if (e->as_prefer == FS_AS_PREFER_GEOIP || !(flow->present & as_bit) || *as == 0) {
		*as = r.asn;
		flow->present |= as_bit;
	}
	/* The organisation is named only when it belongs to the AS in the flow. */
	if (*as != r.asn)
		return;
	if (src)
		set_text_field(flow, FS_F_SRC_AS_ORG, flow->src_as_org, FS_FLOW_AS_ORG_LEN,
			       r.as_org);
	else
		set_text_field(flow, FS_F_DST_AS_ORG, flow->dst_as_org, FS_FLOW_AS_ORG_LEN,
			       r.as_org);
}

/* Merges the map entry over the SNMP entry and fills one interface's fields. */
static void
apply_interface(struct fs_enricher *e, struct fs_flow *flow, bool in,
		const struct fs_if_info *mapped, const struct fs_if_info *polled)
{
	const char *name = mapped != NULL && mapped->name[0] != '\0' ? mapped->name : polled->name;
	const char *description = mapped != NULL && mapped->description[0] != '\0'
					  ? mapped->description : polled->description;
	bool has_speed = (mapped != NULL && mapped->has_speed) || polled->has_speed;
	uint64_t speed = mapped != NULL && mapped->has_speed ? mapped->speed : polled->speed;

	if (name[0] == '\0' && description[0] == '\0' && !has_speed)
		return;
	e->stats.interface_hits++;
	if (in) {
		set_text_field(flow, FS_F_IN_IF_NAME, flow->in_if_name, FS_FLOW_IF_NAME_LEN, name);
		set_text_field(flow, FS_F_IN_IF_DESCRIPTION, flow->in_if_description,
			       FS_FLOW_IF_DESCRIPTION_LEN, description);
		if (has_speed) {
			flow->in_if_speed = speed;
			flow->present |= FS_F_IN_IF_SPEED;
		}
	} else {
		set_text_field(flow, FS_F_OUT_IF_NAME, flow->out_if_name, FS_FLOW_IF_NAME_LEN, name);
		set_text_field(flow, FS_F_OUT_IF_DESCRIPTION, flow->out_if_description,
			       FS_FLOW_IF_DESCRIPTION_LEN, description);
		if (has_speed) {
			flow->out_if_speed = speed;
			flow->present |= FS_F_OUT_IF_SPEED;
		}
	}
}

static void
apply_interfaces(struct fs_enricher *e, struct fs_flow *flow)
{
	uint32_t in_if = fs_flow_has(flow, FS_F_IN_IF) ? flow->in_if : 0;
	uint32_t out_if = fs_flow_has(flow, FS_F_OUT_IF) ? flow->out_if : 0;
	const struct fs_exporter_info *exporter = NULL;
	const struct fs_if_info *mapped_in = NULL;
	const struct fs_if_info *mapped_out = NULL;
	struct fs_if_info polled_in, polled_out;
	char sys_name[FS_FLOW_EXPORTER_NAME_LEN] = "";

	memset(&polled_in, 0, sizeof(polled_in));
	memset(&polled_out, 0, sizeof(polled_out));
	if (e->if_map != NULL) {
		exporter = fs_if_map_exporter(e->if_map, &flow->exporter_addr);
		if (in_if != 0)
			mapped_in = fs_if_map_interface(e->if_map, &flow->exporter_addr, in_if);
		if (out_if != 0)
			mapped_out = fs_if_map_interface(e->if_map, &flow->exporter_addr, out_if);
	}
	if (e->snmp != NULL)
		fs_snmp_poller_lookup(e->snmp, &flow->exporter_addr, in_if, out_if, sys_name,
				      &polled_in, &polled_out);

	set_text_field(flow, FS_F_EXPORTER_NAME, flow->exporter_name, FS_FLOW_EXPORTER_NAME_LEN,
		       exporter != NULL && exporter->name[0] != '\0' ? exporter->name : sys_name);
	if (exporter != NULL)
		set_text_field(flow, FS_F_EXPORTER_SITE, flow->exporter_site, FS_FLOW_SITE_LEN,
			       exporter->site);
	if (in_if != 0)
		apply_interface(e, flow, true, mapped_in, &polled_in);
	if (out_if != 0)
		apply_interface(e, flow, false, mapped_out, &polled_out);
}

static void
apply_prefixes(struct fs_enricher *e, struct fs_flow *flow)
{
	const char *tags;

	if (e->prefixes != NULL && fs_flow_has(flow, FS_F_SRC_ADDR)) {
		tags = fs_prefix_table_lookup(e->prefixes, &flow->src_addr);
		if (tags != NULL) {
			e->stats.prefix_hits++;
			set_text_field(flow, FS_F_SRC_TAGS, flow->src_tags, FS_FLOW_TAGS_LEN, tags);
		}
	}
	if (e->prefixes != NULL && fs_flow_has(flow, FS_F_DST_ADDR)) {
		tags = fs_prefix_table_lookup(e->prefixes, &flow->dst_addr);
		if (tags != NULL) {
			e->stats.prefix_hits++;
			set_text_field(flow, FS_F_DST_TAGS, flow->dst_tags, FS_FLOW_TAGS_LEN, tags);
		}
	}
	if (fs_prefix_table_count(e->home) > 0 && fs_flow_has(flow, FS_F_SRC_ADDR) &&
	    fs_flow_has(flow, FS_F_DST_ADDR)) {
		bool src_home = fs_prefix_table_lookup(e->home, &flow->src_addr) != NULL;
		bool dst_home = fs_prefix_table_lookup(e->home, &flow->dst_addr) != NULL;

		if (src_home && dst_home)
			flow->traffic_direction = FS_TRAFFIC_INTERNAL;
		else if (src_home)
			flow->traffic_direction = FS_TRAFFIC_OUTBOUND;
		else if (dst_home)
			flow->traffic_direction = FS_TRAFFIC_INBOUND;
		else
			flow->traffic_direction = FS_TRAFFIC_EXTERNAL;
		flow->present |= FS_F_TRAFFIC_DIRECTION;
	}
}

static void
apply_services(struct fs_enricher *e, struct fs_flow *flow)
{
	if (e->services == NULL || !fs_flow_has(flow, FS_F_PROTO))
		return;
	if (fs_flow_has(flow, FS_F_SRC_PORT))
		set_text_field(flow, FS_F_SRC_SERVICE, flow->src_service, FS_FLOW_SERVICE_LEN,
			       fs_services_name(e->services, flow->proto, flow->src_port));
	if (fs_flow_has(flow, FS_F_DST_PORT))
		set_text_field(flow, FS_F_DST_SERVICE, flow->dst_service, FS_FLOW_SERVICE_LEN,
			       fs_services_name(e->services, flow->proto, flow->dst_port));
}

void
fs_enricher_apply(struct fs_enricher *e, struct fs_flow *flow)
{
	e->stats.flows++;
	fs_sampling_apply(&e->sampling, flow, &e->stats.sampling);
	if (e->geoip != NULL) {
		apply_geoip_end(e, flow, true);
		apply_geoip_end(e, flow, false);
	}
	apply_interfaces(e, flow);
	apply_prefixes(e, flow);
	apply_services(e, flow);
}
