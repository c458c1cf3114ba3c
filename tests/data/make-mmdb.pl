#!/usr/bin/perl
# Writes two small MaxMind DB files for the enrich tests, in the GeoLite2
# layouts that libmaxminddb readers expect:
#   tests/data/make-mmdb.pl CITY.mmdb ASN.mmdb
# Needs Debian's libmaxmind-db-writer-perl.  Every network is from the
# documentation ranges (RFC 5737, RFC 3849) or private space, so the files
# say nothing about real addresses.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

die "usage: $0 CITY.mmdb ASN.mmdb\n" unless @ARGV == 2;
my ($city_path, $asn_path) = @ARGV;

my %city_types = (
    city      => 'map',
    country   => 'map',
    names     => 'map',
    en        => 'utf8_string',
    iso_code  => 'utf8_string',
    geoname_id => 'uint32',
);

my %asn_types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

sub new_tree {
    my ($type, $types) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 28,
        database_type         => $type,
        languages             => ['en'],
        description           => { en => "flowsift test $type" },
        map_key_type_callback => sub { $types->{ $_[0] } },
        # IPv4 networks are stored in the ::/96 subtree and reached through
        # the IPv4-mapped aliases, as in the published databases.
        alias_ipv6_to_ipv4    => 1,
        remove_reserved_networks => 0,
    );
}

my $city = new_tree('GeoLite2-City', \%city_types);
$city->insert_network('192.0.2.0/24',
    { country => { iso_code => 'FR', names => { en => 'France' } },
      city    => { names => { en => 'Paris' }, geoname_id => 2988507 } });
$city->insert_network('198.51.100.0/24',
    { country => { iso_code => 'DE', names => { en => 'Germany' } },
      city    => { names => { en => "M\x{fc}nchen" } } });
$city->insert_network('203.0.113.0/24',
    { country => { iso_code => 'JP', names => { en => 'Japan' } } });
$city->insert_network('2001:db8:1::/48',
    { country => { iso_code => 'US', names => { en => 'United States' } },
      city    => { names => { en => 'Boston' } } });

my $asn = new_tree('GeoLite2-ASN', \%asn_types);
$asn->insert_network('192.0.2.0/24',
    { autonomous_system_number => 64500,
      autonomous_system_organization => 'Example Paris Networks' });
$asn->insert_network('198.51.100.0/24',
    { autonomous_system_number => 64501,
      autonomous_system_organization => "Beispiel \x{dc}bertragung GmbH" });
$asn->insert_network('2001:db8:1::/48',
    { autonomous_system_number => 4200000001,
      autonomous_system_organization => 'Example IPv6 Transit' });

for my $pair ([$city, $city_path], [$asn, $asn_path]) {
    my ($tree, $path) = @$pair;
    open my $fh, '>:raw', "$path.tmp" or die "cannot write $path.tmp: $!\n";
    $tree->write_tree($fh);
    close $fh or die "cannot write $path.tmp: $!\n";
    rename "$path.tmp", $path or die "cannot rename $path.tmp to $path: $!\n";
}
