import re,sys,os
res=[]
for root,_,files in os.walk('crates'):
    if '/tests' in root or '/examples' in root or '/benches' in root: continue
    for f in files:
        if not f.endswith('.rs'): continue
        p=os.path.join(root,f); L=open(p).read().split('\n')
        intest=False
        i=0
        while i<len(L):
            l=L[i]
            if re.match(r'\s*#\[cfg\(test\)\]',l): break
            m=re.match(r'^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)',l)
            if m:
                ind=len(m.group(1)); j=i+1
                # find closing brace at same indent
                while j<len(L) and not (L[j].startswith(' '*ind+'}') and len(L[j])-len(L[j].lstrip())==ind): j+=1
                n=j-i+1
                if n>120: res.append((n,p,m.group(7)))
            i+=1
for n,p,name in sorted(res,reverse=True): print(n,p,name)
