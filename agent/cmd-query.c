#include "config.h"
/*
 * cmd-query.c: `slopewatch query` (stub until the rules engine lands).
 */
#include <stdio.h>

#include "cli.h"

int
sw_cmd_query(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "slopewatch query: not implemented yet\n");
	return SW_EXIT_USAGE;
}
