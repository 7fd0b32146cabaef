/*
 * kern_american.c - the batch kernel of the american call and put: Bjerksund-Stensland 2002
 * across items in vector lanes, trees by the level's CRR kernel; compiled once per level
 * (kern.h).
 */
#include "kern.h"

void MDL_KERN(mdl_kern_fill_american)(mdl_entry *table)
{
    (void)table;
}
