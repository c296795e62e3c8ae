#include "config.h"
/*
 * cmd-test.c: `slopewatch test` (stub until the rules engine lands).
 */
#include <stdio.h>

#include "cli.h"

int
sw_cmd_test(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "slopewatch test: not implemented yet\n");
	return SW_EXIT_USAGE;
}
