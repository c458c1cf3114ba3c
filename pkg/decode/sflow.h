/*
 * sflow.h - sFlow version 5 datagram decoder.
 *
 * Reference: "sFlow Version 5", sflow.org/sflow_version_5.txt (InMon, 2004).
 * Everything is XDR: big-endian 32-bit words, opaque data padded to 4 bytes.
 *
 * Flow samples (format 1) and expanded flow samples (format 3) each become
 * one flow record, built from the sample's records:
 *
 *   raw packet header (1)      parsed by pkg/decode/packet.h from Ethernet,
 *                              IPv4 or IPv6 (header protocol 1, 11 or 12)
 *   Ethernet frame data (2)    MACs, when no header gave them
 *   IPv4 data (3), IPv6 (4)    addresses, ports, protocol, flags, TOS
 *   extended switch (1001)     vlan_id from the source VLAN
 *   extended router (1002)     next_hop, src_mask, dst_mask
 *   extended gateway (1003)    next_hop, src_as, dst_as
 *   extended MPLS (1006)       next_hop
 *   extended NAT (1007)        post_nat_src_addr, post_nat_dst_addr
 *   extended NAT port (1020)   post_nat_src_port, post_nat_dst_port
 *
 * When several records give a next hop, extended router wins over extended
 * MPLS, which wins over extended gateway, whatever their order.  Flow
 * records the flow schema has no field for (extended user 1004, extended
 * URL 1005, the MPLS tunnel and VC records, 80211 data, socket and
 * application records) and records of other enterprises are skipped and
 * counted in sflow_unknown_records.
 *
 * The mapping to struct fs_flow:
 *
 *   sequence               the datagram sequence number
 *   observation_domain_id  the sub-agent id
 *   sampling_rate          the sample's rate, set only when above 1
 *   in_if, out_if          the interface index; an interface given as
 *                          "discarded", "multiple" or the internal interface
 *                          0x3FFFFFFF is reported as 0, and an unknown one
 *                          (value 0) too
 *   packets                1: a flow sample stands for one sampled packet
 *   bytes                  the IP-layer length of the sampled packet (IPv4
 *                          total length, IPv6 payload length + 40) when the
 *                          header reaches an IP header, else the frame length
 *                          less the stripped bytes; never scaled by the rate
 *   src_as                 the gateway's source AS, or its own AS when 0
 *   dst_as                 the last AS of the destination path, or the
 *                          gateway's own AS when the path is empty
 *
 * Header fields win over those of IPv4 or IPv6 data records in the same
 * sample, because the header shows the packet itself.
 *
 * Counter samples (format 2) and expanded counter samples (format 4) become
 * one struct fs_counters each, handed to the decoder's counters sink:
 * generic interface (1) and Ethernet (2) records are decoded.  Every other
 * counter record (port name 1005, processor 1001, the host records 2000 to
 * 2006 of Host sFlow, ...) has no field in schemas/counters.avsc, so it is
 * listed by format and length in other[] and counted in
 * sflow_unknown_records.  Samples of other formats are skipped and counted
 * in sflow_unknown_samples.  Among them are the discarded packet
 * notifications of format 5: neither schema has a field for the drop reason,
 * and a dropped packet published as a flow would count as forwarded traffic.
 * The format numbers are those of the structure definitions in the Host
 * sFlow agent's src/sflow/sflow.h (github.com/sflow/host-sflow).
 *
 * Hostile input: every sample and record is read through a child cursor
 * limited to its declared length, so a bad length can only spoil its own
 * element.  A flow sample with a malformed or missing record becomes a flow
 * only when a raw header, Ethernet, IPv4 or IPv6 record of it was decoded.
 * Otherwise it is counted in sflow_flows_dropped and not emitted.  The decoder limits in struct fs_decoder_limits bound the samples
 * per datagram, the records per sample and the header bytes parsed.  Bytes
 * after the declared samples are ignored, as some agents pad datagrams.
 */
#ifndef FS_DECODE_SFLOW_H
#define FS_DECODE_SFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

/* Fixed part of a datagram header with an IPv4 agent address. */
#define FS_SFLOW_MIN_HEADER_LEN 28

/*
 * Decodes one sFlow v5 datagram of len bytes: flow records go to ctx's sink,
 * counter samples to the decoder's counters sink.  Samples and records
 * decoded before a fault are kept, and decoding resumes after a malformed
 * sample or record wherever its declared length allows.
 * Returns 0 or the first fault (also kept in ctx->result).
 */
int fs_sflow_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len);

#endif
