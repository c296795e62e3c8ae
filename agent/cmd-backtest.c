#include "config.h"
/*
 * cmd-backtest.c: `slopewatch backtest` (stub until the rules engine lands).
 */
#include <stdio.h>

#include "cli.h"

int
sw_cmd_backtest(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "slopewatch backtest: not implemented yet\n");
	return SW_EXIT_USAGE;
}
