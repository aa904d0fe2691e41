#!/usr/bin/env bash
# man.sh NSFLOW VERSION: nsflow(8) in roff on stdout, made from the binary's own --help texts so
# that the page names every command and option the binary has.
set -euo pipefail
bin=$1
version=$2

# help text as a roff literal block: backslashes doubled, lines that start with . or ' kept
literal() {
	echo '.nf'
	sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
	echo '.fi'
}

cat <<ROFF
.TH NSFLOW 8 "" "nsflow $version" "System Administration"
.SH NAME
nsflow \\- NetStream-class flow metering and NetFlow v5/v9/IPFIX export for Linux
.SH SYNOPSIS
.B nsflow run
.B \\-i
.I IFACE
.RB [ \\-c
.IR URL " ...]"
.RI [ options ]
.br
.B nsflow replay
.I CAPTURE
.RB [ \\-c
.IR URL " ...]"
.br
.B nsflow show
.BR cache " | " stats " | " interfaces " | " collectors
.br
.B nsflow reset
.BR cache " | " stats
.br
.B nsflow detach
.RB ( \\-i
.I IFACE
.RB "| " \\-\\-all )
.br
.B nsflow \\-\\-version
.SH DESCRIPTION
.B nsflow
meters the traffic of network interfaces the way NetStream does on routers: eBPF programs at
XDP (ingress) and TC (egress) parse each packet (VLAN, MPLS, IPv4, IPv6 and its extension
headers, SRv6, VXLAN, TCP/UDP/SCTP/ICMP), sample it if asked and count it into kernel maps;
the agent drains them, ages flows by inactive and active timeouts, aggregates them and exports
them to collectors as NetFlow v5, v9 or IPFIX (UDP, TCP, file), JSON or text.
.PP
The programs stay attached and keep counting when the agent is killed; the next
.B nsflow run
takes them over and exports what was counted meanwhile.
.B show
and
.B reset
talk to a running agent over its control socket.
.SH COMMANDS
ROFF
echo '.SS nsflow'
"$bin" --help | literal
echo '.SS nsflow run'
"$bin" run --help | literal
echo '.SS nsflow replay'
"$bin" replay --help | literal
echo '.SS nsflow show, nsflow reset'
"$bin" show --help | literal
echo '.SS nsflow detach'
"$bin" detach --help | literal
cat <<'ROFF'
.SH FILES
.TP
.I /etc/nsflow/nsflow.yaml
the settings the systemd unit runs with
.TP
.I /sys/fs/bpf/nsflow
the pinned maps and flow cache of the default pin dir
.TP
.I /run/nsflow/control.sock
the control socket of the agent of the default pin dir
.TP
.I /run/nsflow/locks
the locks that keep two agents off one interface or pin dir
.SH EXIT STATUS
0 on success, 1 when the agent failed, 2 for a usage or settings error (nothing is attached).
.SH SEE ALSO
.BR nfdump (1),
.BR nfacctd (8),
.BR tshark (1),
.BR bpftool (8),
.BR ip (8)
ROFF
