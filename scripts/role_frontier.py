#!/usr/bin/env python3
"""Does a per-role configuration move the frontier? For a campaign with per-role labels
(docs/roles.md): per task and averaged over tasks, at each budget B equal to a per-role
configuration's memory, the best per-role configuration under B against the best uniform one under B,
with the standard error of each 2-replicate mean (sd/sqrt(R)) and the combined one.
Usage: python3 scripts/role_frontier.py campaign.nc (needs numpy and netCDF4)."""
import sys
import netCDF4, numpy as np
d=netCDF4.Dataset(sys.argv[1])
cfg=[str(c) for c in d['config'][:]]; tasks=[str(t) for t in d['task'][:]]
R=d['error_replicates'][:].filled(np.nan); M=d['memory'][:]
E=np.nanmean(R,axis=-1); S=np.nanstd(R,axis=-1,ddof=1)/np.sqrt(np.sum(np.isfinite(R),axis=-1))  # standard error of a replicate mean
noise=np.sqrt(np.nanmean(np.nanvar(R,axis=-1,ddof=1)))
print('pooled replicate sd %.4f'%noise)
uni=[j for j,c in enumerate(cfg) if '[' not in c]
wins=0; total=0
for i,t in enumerate(tasks):
    print('==',t)
    for j,c in enumerate(cfg):
        if '[' not in c: continue
        # best uniform at memory <= this config's memory
        cand=[u for u in uni if M[i,u]>=M[i,j]-1e-12]  # uniform with equal or more memory
        if not cand: continue
        u=min(cand,key=lambda u:E[i,u])
        diff=E[i,u]-E[i,j]; se=np.hypot(S[i,u],S[i,j])
        total+=1
        if diff>se:
            wins+=1; print('  %-34s %.3f MiB err %.3f±%.3f  beats %-12s %.3f MiB err %.3f±%.3f (diff %.3f, se %.3f)'%(c,M[i,j],E[i,j],S[i,j],cfg[u],M[i,u],E[i,u],S[i,u],diff,se))
print('mixed configurations below the best uniform one of equal or more memory by more than the combined se: %d of %d'%(wins,total))
# averaged over tasks
Em=E.mean(0); Sm=np.sqrt((S**2).sum(0))/len(tasks); Mm=M.mean(0)
print('\nmean over the tasks:')
for j in np.argsort(Mm):
    print('  %-34s %.3f MiB  err %.4f ± %.4f'%(cfg[j],Mm[j],Em[j],Sm[j]))

print('\nbudget reading: at budget B = a mixed configuration memory, best mixed under B vs best uniform under B')
def budget_table(E,S,M,label):
    out=[]
    for j in range(len(cfg)):
        if '[' not in cfg[j]: continue
        B=M[j]
        u=[k for k in uni if M[k]<=B+1e-12]
        if not u: continue
        bu=min(u,key=lambda k:E[k])
        if E[j] < E[bu] and all(E[j] <= E[k] for k in range(len(cfg)) if '[' in cfg[k] and M[k]<=B+1e-12):
            out.append((B,cfg[j],E[j],S[j],cfg[bu],E[bu],S[bu]))
    return out
for B,c,e,s,cu,eu,su in budget_table(Em,Sm,Mm,'mean'):
    se=np.hypot(s,su); print('  mean over tasks, B=%.3f: %-30s %.4f±%.4f vs %-10s %.4f±%.4f  diff %.4f  (%s combined se %.4f)'%(B,c,e,s,cu,eu,su,eu-e,'>' if eu-e>se else '<=',se))
n_sig=0; n_tasks=0
for i,t in enumerate(tasks):
    rows=budget_table(E[i],S[i],M[i],t); sig=[r for r in rows if r[5]-r[2]>np.hypot(r[3],r[6])]
    n_tasks+= bool(sig)
    print('  %-22s budgets where the best mixed beats the best uniform: %d, by more than the combined se: %d %s'%(t,len(rows),len(sig),' '.join('%s(%.3f vs %.3f)'%(r[1],r[2],r[5]) for r in sig)))
print('tasks with a significant win:',n_tasks)
