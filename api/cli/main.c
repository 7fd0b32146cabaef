#include <stdio.h>
#include "riskengine.h"
int main(void) { printf("%s\n", rk_version()); return 0; }
