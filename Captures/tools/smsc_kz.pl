#!/usr/bin/perl
# An SMSC that follows the SMSC.kz rules, written on Perl's Net::SMPP, to record real client traffic against.
#   binds: system_id/password checked (0x0E, 0x0F); one process per connection
#   submit_sm: at most RATE accepted per second per connection, the rest ESME_RTHROTTLED (0x58);
#              one message id for all parts of a long message; a delivery receipt (deliver_sm, text and TLVs)
#              0.2-0.9 s later when registered_delivery asks; "__HLR__" answered with an HLR-format status
#   query_sm: state of a known id, ESME_RINVMSGID for an unknown one
#   enquire_link, unbind; a connection silent for 120 s is closed
# Usage: smsc_kz.pl PORT SYSTEM_ID PASSWORD [RATE]
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);

my ($port, $login, $secret, $rate) = @ARGV;
die "usage: $0 PORT SYSTEM_ID PASSWORD [RATE]\n" unless $port && $login && defined $secret;
$rate ||= 30;
$| = 1;

my $server = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34, interface_version => 0x34)
    or die "cannot listen on 127.0.0.1:$port: $!";
$SIG{CHLD} = 'IGNORE';
print "listening on 127.0.0.1:$port\n";

while (1) {
    my $connection = $server->accept or next;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        undef $server;
        serve($connection);
        exit 0;
    }
}

sub serve {
    my ($c) = @_;
    my $select = IO::Select->new($c);
    my $next_id = 854019;
    my @accepted;            # times of accepted submit_sm, last second
    my @receipts;            # [due, pdu arguments]
    my %known;               # message id => submit time
    my %long_ids;            # "ref/total" => message id shared by the parts
    my $last_activity = time;
    my $bound = 0;
    while (1) {
        my $now = time;
        while (@receipts && $receipts[0][0] <= $now) {
            my $receipt = shift @receipts;
            $c->deliver_sm(@{ $receipt->[1] }, async => 1);
        }
        if ($now - $last_activity > 120) {
            print "idle for 120 s, closing\n";
            return;
        }
        my $wait = @receipts ? $receipts[0][0] - $now : 1;
        $wait = 0.01 if $wait < 0.01;
        next unless $select->can_read($wait);
        my $pdu = $c->read_pdu() or do { print "connection closed by the client\n"; return };
        $last_activity = time;
        my $cmd = $pdu->{cmd};
        if ($cmd == 0x00000009 || $cmd == 0x00000002 || $cmd == 0x00000001) {
            my $status = $pdu->{system_id} ne $login ? 0x0F : $pdu->{password} ne $secret ? 0x0E : 0;
            my $method = $cmd == 9 ? 'bind_transceiver_resp' : $cmd == 2 ? 'bind_transmitter_resp' : 'bind_receiver_resp';
            $c->$method(system_id => 'SMSCKZ', seq => $pdu->{seq}, status => $status,
                        sc_interface_version => pack('C', 0x34));
            $bound = $status == 0;
        } elsif ($cmd == 0x00000004) {
            if (!$bound) { $c->submit_sm_resp(message_id => '', seq => $pdu->{seq}, status => 0x04); next }
            @accepted = grep { $_ > $now - 1 } @accepted;
            if (@accepted >= $rate) {
                $c->submit_sm_resp(message_id => '', seq => $pdu->{seq}, status => 0x58);
                next;
            }
            push @accepted, $now;
            my $text = $pdu->{short_message};
            my ($ref, $total, $part) = (undef, 1, 1);
            if (($pdu->{esm_class} & 0x40) && length($text) >= 6 && substr($text, 1, 2) eq "\x00\x03") {
                ($ref, $total, $part) = unpack('C3', substr($text, 3, 3));
            }
            my $id;
            if (defined $ref) {
                my $key = "$ref/$total";
                $id = $long_ids{$key} //= $next_id++;
                delete $long_ids{$key} if $part == $total;
            } else {
                $id = $next_id++;
            }
            $known{$id} = $now;
            $c->submit_sm_resp(message_id => "$id", seq => $pdu->{seq});
            next unless ($pdu->{registered_delivery} & 1) && $part == $total;
            my $date = strftime('%y%m%d%H%M', gmtime($now));
            (my $plain = $text) =~ tr/\x11/_/;    # GSM 03.38 puts '_' at 0x11
            my $body = $plain eq '__HLR__'
                ? "id:$id stat:DELIVRD err:000 imsi:401011234567890 msc:77010000000 mcc:401 mnc:01 cn:Kazakhstan net:Beeline%20KZ rcn: rnet:"
                : "id:$id sub:001 dlvrd:001 submit date:$date done date:$date stat:DELIVRD err:000";
            push @receipts, [ $now + 0.2 + rand(0.7), [
                source_addr_ton => $pdu->{dest_addr_ton}, source_addr_npi => $pdu->{dest_addr_npi},
                source_addr => $pdu->{destination_addr},
                dest_addr_ton => $pdu->{source_addr_ton}, dest_addr_npi => $pdu->{source_addr_npi},
                destination_addr => $pdu->{source_addr},
                esm_class => 0x04, data_coding => 0, short_message => $body,
                receipted_message_id => "$id\0", message_state => pack('C', 2),
                network_error_code => pack('Cn', 3, 0),
            ] ];
            @receipts = sort { $a->[0] <=> $b->[0] } @receipts;
        } elsif ($cmd == 0x00000003) {
            if (exists $known{ $pdu->{message_id} }) {
                my $final = strftime('%y%m%d%H%M%S', gmtime($known{ $pdu->{message_id} } + 1)) . '000+';
                $c->query_sm_resp(message_id => $pdu->{message_id}, final_date => $final, message_state => 2,
                                  error_code => 0, seq => $pdu->{seq});
            } else {
                $c->query_sm_resp(message_id => $pdu->{message_id}, final_date => '', message_state => 0,
                                  error_code => 0, seq => $pdu->{seq}, status => 0x0C);
            }
        } elsif ($cmd == 0x00000015) {
            $c->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == 0x00000006) {
            $c->unbind_resp(seq => $pdu->{seq});
            print "unbound\n";
            return;
        } elsif ($cmd == 0x80000005 || $cmd == 0x80000015) {
            # responses to our deliver_sm and enquire_link
        } else {
            $c->generic_nack(seq => $pdu->{seq}, status => 0x03);
        }
    }
}
