#!/bin/bash
# measure, loocv (whole and as parts + merge) and select on 2 nodes x 2 ranks
# (TCP between the nodes, Open MPI defaults) give the files of 1 node x 1 rank;
# every rank logs its node, node-local rank and device.
source "$(dirname "$0")/lib.sh"
W=$(workdir commands)
cd "$PEPPP_SOURCE_DIR"
P=(--run.progress_interval 0)

single "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/one.nc" --synthetic.seconds 0.02 "${P[@]}" > "$W/one.log" 2>&1 \
  || { cat "$W/one.log"; fail "1-rank measure failed"; }
across "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/four.nc" --synthetic.seconds 0.02 "${P[@]}" > "$W/four.log" 2>&1 \
  || { cat "$W/four.log"; fail "2-node measure failed"; }
cat "$W/four.log"
same_files "$W/one.nc" "$W/four.nc"
grep -q "36 measured, 0 diverged, 0 failed, 0 missing of 36 planned" "$W/four.log" || fail "2-node measure summary"
# Which queue: Open MPI 4.1 over TCP has no one-sided atomics; the fallback is logged.
grep -q "^work queue: " "$W/four.log" || fail "measure does not log its work queue"
# Placement: ranks 0,1 on nodeA and 2,3 on nodeB (mpirun fills nodes in order),
# node-local ranks 0 and 1 on each, device cpu (no GPU here).
for r in 0 1 2 3; do
  node=nodeA; [ $r -ge 2 ] && node=nodeB
  grep -q "^\[rank $r\] placement: host $node, node-local rank $((r % 2)) of 2, device cpu," "$W/four.log" \
    || fail "rank $r placement not logged as $node local rank $((r % 2))"
done

# LOOCV of the synthetic campaign (3 measurements, two settings), whole and split in 3 parts + merge.
L=(--measurements 3 --settings I,IV)
single "$PEPPP_EXE" loocv --campaign "$W/one.nc" --output "$W/loocv-one.nc" "${L[@]}" > "$W/l1.log" 2>&1 \
  || { cat "$W/l1.log"; fail "1-rank loocv failed"; }
across "$PEPPP_EXE" loocv --campaign "$W/four.nc" --output "$W/loocv-four.nc" "${L[@]}" > "$W/l4.log" 2>&1 \
  || { cat "$W/l4.log"; fail "2-node loocv failed"; }
same_files "$W/loocv-one.nc" "$W/loocv-four.nc"
for k in 1 2 3; do
  across "$PEPPP_EXE" loocv --campaign "$W/four.nc" --part "$k/3" --output "$W/part-$k.nc" "${L[@]}" > "$W/p$k.log" 2>&1 \
    || { cat "$W/p$k.log"; fail "2-node loocv part $k failed"; }
done
across "$PEPPP_EXE" loocv --merge "$W/part-1.nc,$W/part-2.nc,$W/part-3.nc" --output "$W/merged.nc" > "$W/m.log" 2>&1 \
  || { cat "$W/m.log"; fail "2-node loocv merge failed"; }
same_files "$W/loocv-one.nc" "$W/merged.nc"

# select: real training of a new task's picks (one round of ed-mf), 1 rank vs 2 nodes.
cat > "$W/new.ini" <<INI
[dataset fashion]
kind = idx
path = /usr/share/datasets/fashion-mnist
class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot

[defaults]
dataset = fashion
resolution = 14
channels = 1
train_size = 200
test_size = 100
seed = 11

[task tshirt-dress]
classes = t-shirt, dress
INI
S=(--task "$W/new.ini:tshirt-dress" --acquisition ed-mf --budget 1000000 --measurements 4 --train.epochs 1 "${P[@]}")
single "$PEPPP_EXE" select --campaign "$W/one.nc" --output "$W/sel-one.nc" "${S[@]}" > "$W/s1.log" 2>&1 \
  || { cat "$W/s1.log"; fail "1-rank select failed"; }
across "$PEPPP_EXE" select --campaign "$W/four.nc" --output "$W/sel-four.nc" "${S[@]}" > "$W/s4.log" 2>&1 \
  || { cat "$W/s4.log"; fail "2-node select failed"; }
cat "$W/s4.log"
same_files "$W/sel-one.nc" "$W/sel-four.nc"
same_files "$W/sel-one.nc.measured.nc" "$W/sel-four.nc.measured.nc"
# A bad PEPPP_WORK_QUEUE is bad input: one line, exit 1, nothing written.
rc=0
PEPPP_WORK_QUEUE=rma across -x PEPPP_WORK_QUEUE "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/bad.nc" \
  --synthetic.seconds 0.01 > "$W/bad.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$W/bad.log"; fail "PEPPP_WORK_QUEUE=rma: exit $rc, expected 1"; }
[ "$(grep -c "^error: PEPPP_WORK_QUEUE='rma': allowed auto, one-sided, messages" "$W/bad.log")" = 1 ] \
  || { cat "$W/bad.log"; fail "PEPPP_WORK_QUEUE=rma: not one error line naming the value"; }
ls "$W" | grep -q "^bad.nc" && fail "PEPPP_WORK_QUEUE=rma left output behind"
echo "PASS: measure, loocv, loocv parts + merge and select on 2 nodes x 2 ranks equal 1 rank"
