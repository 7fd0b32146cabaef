# benchmarks/plots.gp - the benchmark's PNG plots from the data files bench.c writes.
#   gnuplot -e "dir='RESULTS_DIR'" benchmarks/plots.gp
# latency_cdf.png (W1 latency CDFs), overshoot.png (deadline overshoot histogram),
# scaling.png (speedup and efficiency by workers), kernels.png (ns per revaluation by kind).
set terminal pngcairo size 800,500 font ",10"
set grid

set output dir.'/latency_cdf.png'
set title 'W1 latency CDF (closed and open loop; 1, 2, 4 callers)'
set xlabel 'latency (ms)'
set ylabel 'fraction of requests'
set logscale x
set key bottom right
plot for [m in 'closed open'] for [c in '1 2 4'] \
     dir.'/latency_'.m.'_c'.c.'.dat' using 1:2 with lines lw 2 title m.', '.c.' caller(s)'
unset logscale x

set output dir.'/overshoot.png'
set title 'Deadline overshoot (return time - deadline), deadline = W1 median / 2'
set xlabel 'overshoot (ms)'
set ylabel 'requests'
set key off
stats dir.'/overshoot.dat' using 1 nooutput
bw = (STATS_max - STATS_min) / 30.0
if (bw <= 0) bw = 0.01
bin(x) = bw * floor(x / bw) + bw / 2.0
set boxwidth bw * 0.9
set style fill solid 0.6
plot dir.'/overshoot.dat' using (bin($1)):(1.0) smooth frequency with boxes

set output dir.'/scaling.png'
set title 'W1 scaling: speedup and efficiency by workers'
set xlabel 'workers'
set ylabel 'speedup (T1/Tk)'
set y2label 'efficiency T1/(k Tk)'
set y2range [0:1.1]
set y2tics
set key top left
plot dir.'/scaling.dat' using 1:3 with linespoints lw 2 title 'speedup', \
     dir.'/scaling.dat' using 1:1 with lines dt 2 title 'ideal', \
     dir.'/scaling.dat' using 1:4 axes x1y2 with linespoints lw 2 title 'efficiency'
unset y2label
unset y2tics

set output dir.'/kernels.png'
set title 'Model kernels: ns per revaluation (log scale)'
set xlabel ''
set ylabel 'ns per revaluation'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7
set xtics rotate by -30
set key top left
plot dir.'/kernels.dat' using 2:xtic(1) title 'fast batch entry', '' using 3 title 'scalar reference'
