#ifndef BPFPROF_REPORT_H
#define BPFPROF_REPORT_H

int report_main(int argc, char **argv);

#endif
