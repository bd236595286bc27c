#ifndef BPFPROF_SERVE_H
#define BPFPROF_SERVE_H

int serve_main(int argc, char **argv);

#endif
