#!/usr/bin/perl
# A small SMSC on Perl's Net::SMPP for the tests: it logs every byte it reads and writes on each connection, so
# the tests can compare what crossed a proxy with what this server saw.
#   answer  (default): binds accepted, submit_sm answered with a message id, enquire_link answered, unbind answered
#                      then the connection closed
#   silent:            reads everything and never answers
#   bind-only:         answers binds and unbinds, never anything else
# Usage: netsmpp_smsc.pl PORT LOGFILE [answer|silent|bind-only]
# The log has one line per read or write: "CONNECTION received|sent HEX"; "CONNECTION closed" when it ends.
use strict;
use warnings;
use Net::SMPP;
use IO::Handle;

my ($port, $logfile, $mode) = @ARGV;
die "usage: $0 PORT LOGFILE [answer|silent|bind-only]\n" unless $port && $logfile;
$mode ||= 'answer';
$| = 1;
# A process group of its own, so that the tests can kill the server and the processes serving its connections at once.
setpgrp(0, 0);
open(my $log, '>>', $logfile) or die "cannot write $logfile: $!";
$log->autoflush(1);
our $connection_number = 0;

package LoggedSMPP;
our @ISA = ('Net::SMPP');

sub syswrite {
    my ($me, $data) = @_;
    my $written = $me->SUPER::syswrite($data);
    print $log "$main::connection_number sent ", unpack('H*', substr($data, 0, $written // 0)), "\n" if $written;
    return $written;
}

sub sysread {
    my $me = shift;
    my $offset = $_[2] // 0;
    my $n = $me->SUPER::sysread($_[0], $_[1], $offset);
    print $log "$main::connection_number received ", unpack('H*', substr($_[0], $offset, $n)), "\n" if $n;
    return $n;
}

package main;

my $server = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34, interface_version => 0x34)
    or die "cannot listen on 127.0.0.1:$port: $!";
$SIG{CHLD} = 'IGNORE';
print "listening on 127.0.0.1:$port\n";

while (1) {
    my $connection = $server->accept or next;
    $connection_number++;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        undef $server;
        bless $connection, 'LoggedSMPP';
        serve($connection);
        print $log "$connection_number closed\n";
        exit 0;
    }
    close $connection;
}

sub serve {
    my ($c) = @_;
    my $next_id = 1000;
    while (1) {
        my $pdu = $c->read_pdu() or return;
        next if $mode eq 'silent';
        my $cmd = $pdu->{cmd};
        if ($cmd == 0x00000009 || $cmd == 0x00000002 || $cmd == 0x00000001) {
            my $method = $cmd == 9 ? 'bind_transceiver_resp' : $cmd == 2 ? 'bind_transmitter_resp' : 'bind_receiver_resp';
            $c->$method(system_id => 'NETSMPP', seq => $pdu->{seq}, status => 0);
        } elsif ($mode eq 'bind-only' && $cmd != 0x00000006) {
            # Read, never answered.
        } elsif ($cmd == 0x00000004) {
            $c->submit_sm_resp(message_id => sprintf('%d', $next_id++), seq => $pdu->{seq}, status => 0);
        } elsif ($cmd == 0x00000015) {
            $c->enquire_link_resp(seq => $pdu->{seq}, status => 0);
        } elsif ($cmd == 0x00000006) {
            $c->unbind_resp(seq => $pdu->{seq}, status => 0);
            return;
        } elsif ($cmd & 0x80000000) {
            # A response from the client: nothing to answer.
        } else {
            $c->generic_nack(seq => $pdu->{seq}, status => 0x03);
        }
    }
}
