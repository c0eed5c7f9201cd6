# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-alua.sh - guest side of alua_multipath.sh.
#
# One LUN behind two TPGs: tag 1 on PORTAL_A (active/optimized), tag 2 on
# PORTAL_B (active/non-optimized). dm-multipath with scsi_dh_alua, prio alua,
# path_grouping_policy group_by_prio, failback immediate:
#   1. the map has two path groups; the active one holds the path of PORTAL_A
#      and has the higher priority
#   2. under fio (crc32c verify) the host sets TPG 1 standby and TPG 2
#      active/optimized; the priorities must change, the active group must be
#      the one of PORTAL_B, writes must then reach only PORTAL_B's disk, and
#      fio must end without an error
#
# Variables: TT_VM_TARGET_IQN, TT_ALUA_IO_S [40] (seconds of fio).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

IQN=${TT_VM_TARGET_IQN:?}
IO_S=${TT_ALUA_IO_S:-40}
G_ALUA=0

# g_alua "TAG STATE"...: ask the host for tetherctl alua set, wait for the ack
g_alua() {
	local n ack
	G_ALUA=$((G_ALUA + 1))
	n=$G_ALUA
	printf '%s\n' "$@" >"/mnt/ctl/.alua.$n"
	mv "/mnt/ctl/.alua.$n" "/mnt/ctl/alua.$n"
	for _ in $(seq 200); do
		if [ -f "/mnt/ctl/alua-ack.$n" ]; then
			ack=$(cat "/mnt/ctl/alua-ack.$n")
			rm -f "/mnt/ctl/alua-ack.$n"
			[ "$ack" = ok ] || g_die "host ALUA request '$*': $ack"
			return 0
		fi
		sleep 0.1
	done
	g_die "host did not answer ALUA request '$*'"
}

# groups: one line per path, "DISK PRIO GROUP-STATUS DM-STATE CHECKER-STATE"
groups() {
	multipath -ll "$MAP" 2>/dev/null | awk '
		/prio=/ { for (i = 1; i <= NF; i++) { if ($i ~ /^prio=/) p = substr($i, 6); if ($i ~ /^status=/) s = substr($i, 8) } next }
		{ for (i = 1; i <= NF; i++) if ($i ~ /^sd[a-z]+$/) { print $i, p, s, $(i + 2), $(i + 3); next } }'
}
field() { groups | awk -v d="$1" -v f="$2" '$1 == d { print $f }'; }
writes() { awk '{ print $5 }' "/sys/block/$1/stat"; } # write I/Os completed

dmesg -n 1
g_udev_start
modprobe -a dm_multipath dm_service_time scsi_dh_alua || g_die "dm-multipath / scsi_dh_alua modules"
g_iscsi_start

for p in "$PORTAL_A" "$PORTAL_B"; do
	out=$(g_discover "$p") || g_die "SendTargets on $p failed: $out"
	echo "SendTargets on $p:"
	echo "  ${out//$'\n'/$'\n'  }"
done
g_login "$IQN" "$PORTAL_A" || g_die "login on $PORTAL_A"
g_login "$IQN" "$PORTAL_B" || g_die "login on $PORTAL_B"
DA=$(g_disk "$IQN" "$PORTAL_A") || g_die "no disk on $PORTAL_A"
DB=$(g_disk "$IQN" "$PORTAL_B") || g_die "no disk on $PORTAL_B"
udevadm settle -t 30
echo "REPORT TARGET PORT GROUPS through $DA:"
sg_rtpg -d "/dev/$DA" 2>&1 | sed 's/^/  /'
for d in "$DA" "$DB"; do
	tpgs=$(sg_inq "/dev/$d" 2>/dev/null | grep -o 'TPGS=[0-9]')
	if [ "$tpgs" = TPGS=1 ]; then g_ok "$d reports implicit ALUA only ($tpgs)"
	else g_bad "$d: INQUIRY ${tpgs:-without TPGS}, want TPGS=1 (alua_explicit false)"; fi
	echo "$d: dh_state $(cat "/sys/block/$d/device/dh_state" 2>/dev/null)," \
		"access_state $(cat "/sys/block/$d/device/access_state" 2>/dev/null)," \
		"preferred_path $(cat "/sys/block/$d/device/preferred_path" 2>/dev/null)"
done

cat >/etc/multipath.conf <<'CONF'
defaults {
	user_friendly_names yes
	find_multipaths no
	polling_interval 2
}
devices {
	device {
		vendor "TETHER"
		product ".*"
		path_grouping_policy group_by_prio
		prio alua
		hardware_handler "1 alua"
		path_checker tur
		failback immediate
		no_path_retry 12
	}
}
CONF
multipathd || g_die "multipathd did not start"
MAP=
for i in $(seq 60); do
	MAP=$(dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1 }')
	[ -n "$MAP" ] && [ "$(groups | wc -l)" = 2 ] && [ -n "$(field "$DA" 2)" ] && break
	[ "$i" = 20 ] && multipath >/dev/null 2>&1
	sleep 0.5
done
multipath -ll
[ "$(echo "$MAP" | wc -w)" = 1 ] || g_die "expected one multipath map, got '$MAP'"
dmsetup mknodes "$MAP"
[ -b "/dev/mapper/$MAP" ] || g_die "no /dev/mapper/$MAP"
groups

# ---- before: A optimized and active, B non-optimized in another group
pa=$(field "$DA" 2) pb=$(field "$DB" 2)
if [ "$(multipath -ll "$MAP" | grep -c 'prio=')" = 2 ]; then g_ok "two path groups"
else g_bad "expected two path groups"; fi
if [ "$(field "$DA" 3)" = active ] && [ "$(field "$DB" 3)" = enabled ]; then
	g_ok "the group of $DA ($PORTAL_A, active/optimized) is active, $DB's is enabled"
else
	g_bad "group status: $DA $(field "$DA" 3), $DB $(field "$DB" 3)"
fi
if [ -n "$pa" ] && [ -n "$pb" ] && [ "$pa" -gt "$pb" ]; then g_ok "prio $DA=$pa > $DB=$pb"
else g_bad "prio $DA=$pa, $DB=$pb: expected the optimized path higher"; fi
g_figure alua_prio_optimized "$pa"
g_figure alua_prio_non_optimized "$pb"

# ---- switch under fio
fio --name=alua --filename="/dev/mapper/$MAP" --direct=1 --ioengine=libaio --iodepth=4 \
	--rw=randwrite --bs=4k --size=64M --time_based --runtime="$IO_S" \
	--verify=crc32c --verify_backlog=256 --verify_fatal=1 >/tmp/fio.alua 2>&1 &
fio_pid=$!
sleep 4
wa0=$(writes "$DA") wb0=$(writes "$DB")
if [ "$wb0" -lt "$wa0" ]; then g_ok "before the switch writes go to $DA ($wa0 write I/Os; $DB $wb0)"
else g_bad "before the switch: $wa0 write I/Os on $DA, $wb0 on $DB"; fi
t0=$(g_now)
g_alua "1 standby" "2 active-optimized"
g_log "host set TPG 1 standby, TPG 2 active/optimized"
switched=
for i in $(seq 60); do
	if [ "$(field "$DB" 3)" = active ] && [ "$(field "$DB" 2)" -gt "$(field "$DA" 2 || echo 0)" ] 2>/dev/null; then
		switched=$(g_since "$t0")
		break
	fi
	sleep 0.5
done
multipath -ll "$MAP"
groups
if [ -n "$switched" ]; then
	g_ok "after ${switched} s the group of $DB ($PORTAL_B) is active with prio $(field "$DB" 2) > $DA's $(field "$DA" 2)"
	g_figure alua_switch_s "$switched"
else
	g_bad "the active group did not switch to $DB within 30 s"
	g_figure alua_switch_s never
fi
g_figure alua_prio_standby "$(field "$DA" 2)"
g_figure alua_standby_path_state "\"$(field "$DA" 4) $(field "$DA" 5)\""
for d in "$DA" "$DB"; do
	echo "$d: access_state $(cat "/sys/block/$d/device/access_state" 2>/dev/null)"
done
sleep 1
wa1=$(writes "$DA") wb1=$(writes "$DB")
sleep 5
wa2=$(writes "$DA") wb2=$(writes "$DB")
echo "write I/Os: $DA $wa0 -> $wa1 -> $wa2, $DB $wb0 -> $wb1 -> $wb2"
if [ "$wb2" -gt "$wb1" ] && [ "$wa2" = "$wa1" ]; then g_ok "writes now reach only $DB"
else g_bad "writes after the switch: $DA +$((wa2 - wa1)), $DB +$((wb2 - wb1)) write I/Os"; fi
rc=0
wait "$fio_pid" || rc=$?
if [ $rc = 0 ] && grep -q 'err= 0' /tmp/fio.alua && ! grep -qE 'err= *[1-9]|verify:|bad' /tmp/fio.alua; then
	g_ok "fio saw no I/O error and no verify mismatch through the ALUA change"
else
	cat /tmp/fio.alua
	g_bad "fio failed (status $rc)"
fi
echo "REPORT TARGET PORT GROUPS through $DB after the change:"
sg_rtpg -d "/dev/$DB" 2>&1 | sed 's/^/  /'
echo "--- kernel messages about ALUA"
dmesg | grep -iE 'alua|multipath|port group' | tail -n 30

multipathd shutdown >/dev/null 2>&1
for _ in $(seq 50); do pidof multipathd >/dev/null || break; sleep 0.1; done
multipath -F >/dev/null 2>&1 || g_bad "multipath -F"
g_logout "$IQN" "$PORTAL_A" || g_bad "logout on $PORTAL_A"
g_logout "$IQN" "$PORTAL_B" || g_bad "logout on $PORTAL_B"
g_end
